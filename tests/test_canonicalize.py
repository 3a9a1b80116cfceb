"""Canonicalizers: equivariance by construction, exact invariance with an oracle, losses, training."""
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data
import torch

from ientrack.checkpoint import load_checkpoint, save_checkpoint
from ientrack.equivariance.canon_loss import CanonLoss, consistency_loss, contrastive_loss, prior_loss
from ientrack.equivariance.canonicalize import (CanonicalizedModel, Canonicalizer, EquivariantCanonicalizer,
                                                PoseEnsemble, PosePredictor, small_cnn_trunk)
from ientrack.equivariance.groups import cyclic
from ientrack.models.canonicalizers import build_canonicalizer, load_canonicalizer
from ientrack.models.efficientnet_lite import efficientnet_lite0
from ientrack.train.canon_actor import CanonActor
from ientrack.train.canon_trainer import train_canonicalizer
from ientrack.train.settings import CanonSettings

C4 = cyclic(4)


def images(batch=3, size=48, seed=0):
    return torch.rand(batch, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 255


@pytest.mark.parametrize("make", [lambda: EquivariantCanonicalizer("C4"),
                                  lambda: Canonicalizer(small_cnn_trunk(), "C4", size=48),
                                  lambda: PoseEnsemble([EquivariantCanonicalizer("C4"),
                                                        Canonicalizer(small_cnn_trunk(), "C4", size=48)])])
def test_pose_of_a_quarter_turn_is_the_pose_plus_90_degrees(make):
    torch.manual_seed(0)
    model = make().eval()
    x = images()
    with torch.no_grad():
        logits = model.pose_logits(x)
        for k in range(1, 4):
            turned = model.pose_logits(torch.rot90(x, k, dims=(-2, -1)))
            assert torch.allclose(turned, torch.roll(logits, k, dims=1), atol=1e-5)
            assert torch.equal(model.predict(torch.rot90(x, k, dims=(-2, -1))), (model.predict(x) + k) % 4)
    angles = model.predict_pose(x)
    turned = model.predict_pose(torch.rot90(x, 1, dims=(-2, -1)))
    assert torch.equal((angles + 90 + 180) % 360 - 180, turned)


def test_an_ensemble_sums_its_members_pose_log_probabilities_and_refuses_mixed_groups():
    torch.manual_seed(0)
    members = [EquivariantCanonicalizer("C4").eval(), Canonicalizer(small_cnn_trunk(), "C4", size=48).eval()]
    x = images()
    with torch.no_grad():
        expected = sum(m.pose_logits(x).log_softmax(dim=1) for m in members)
        assert torch.allclose(PoseEnsemble(members).pose_logits(x), expected)
    with pytest.raises(ValueError, match="one group"):
        PoseEnsemble([members[0], Canonicalizer(small_cnn_trunk(), "C8", size=48)])
    with pytest.raises(ValueError, match="two or more"):
        PoseEnsemble(members[:1])


def test_predict_pose_takes_a_numpy_patch():
    model = Canonicalizer(small_cnn_trunk(), "C4", size=32).eval()
    patch = np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    angle = model.predict_pose(patch)
    assert angle in (-180.0, -90.0, 0.0, 90.0)
    assert model.predict_pose(np.ascontiguousarray(np.rot90(patch, 1))) == (angle + 270) % 360 - 180
    with pytest.raises(ValueError, match="RGB patches"):
        model.predict_pose(np.zeros((40, 40)))


class MarkerOracle(PosePredictor):
    """Knows the answer: the upright images carry a bright top-left corner; the pose is where it went."""

    def __init__(self):
        super().__init__()
        self.group = C4
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def pose_logits(self, x):
        # corner k (top-left, bottom-left, bottom-right, top-right) holds the marker after k CCW quarter turns
        corners = torch.stack([x[:, 0, 0, 0], x[:, 0, -1, 0], x[:, 0, -1, -1], x[:, 0, 0, -1]], dim=1)
        return corners


def test_oracle_canonicalized_model_is_exactly_c4_invariant():
    x = images(4, 24) * 0.5
    x[:, :, 0, 0] = 255.0
    extractor = torch.nn.Sequential(torch.nn.Conv2d(3, 5, 3), torch.nn.Flatten(), torch.nn.LazyLinear(7))
    model = CanonicalizedModel(MarkerOracle(), extractor)
    with torch.no_grad():
        upright = model(x)
        for k in range(1, 4):
            assert torch.equal(model(torch.rot90(x, k, dims=(-2, -1))), upright)
        assert not torch.allclose(extractor(torch.rot90(x, 1, dims=(-2, -1))), upright)


class SecondBestOracle(MarkerOracle):
    """Ranks the marker's pose second, a quarter turn later first: the canonical input comes out turned."""

    def pose_logits(self, x):
        marker = (super().pose_logits(x) > 200).float()
        return marker + 1.5 * torch.roll(marker, 1, dims=1)


class MarkerClassifier(torch.nn.Module):
    """Class 0 of 3, sure of it (probability 0.99) when the marker sits top-left, unsure (0.38) otherwise;
    counts the images it is shown."""

    def __init__(self):
        super().__init__()
        self.seen = 0

    def forward(self, x):
        self.seen += len(x)
        logits = torch.zeros(len(x), 3)
        logits[:, 0] = 5.4 * (x[:, 0, 0, 0] > 200).float() + 0.2
        return logits


def test_second_pose_is_tried_only_for_doubtful_images_and_the_surer_answer_kept():
    x = images(4, 24) * 0.5
    x[:, :, 0, 0] = 255.0
    classifier = MarkerClassifier()
    plain = CanonicalizedModel(SecondBestOracle(), classifier)
    checked = CanonicalizedModel(SecondBestOracle(), classifier, second_pose_below=0.5)
    sure = CanonicalizedModel(MarkerOracle(), classifier, second_pose_below=0.5)
    with torch.no_grad():
        assert (plain(x).softmax(dim=1)[:, 0] < 0.5).all()  # the first pose is wrong: unsure
        assert not plain.doubtful(x).any()  # without a threshold nothing is looked at twice
        assert checked.doubtful(x).all()
        classifier.seen = 0
        assert (checked(x).softmax(dim=1)[:, 0] > 0.98).all()
        assert classifier.seen == 8  # every image looked at twice
        classifier.seen = 0
        assert (sure(torch.rot90(x, 1, dims=(-2, -1))).softmax(dim=1)[:, 0] > 0.98).all()
        assert classifier.seen == 4  # the first pose right and sure: no second pass
    with pytest.raises(ValueError, match="second_pose_below"):
        CanonicalizedModel(MarkerOracle(), classifier, second_pose_below=1.5)


@pytest.mark.parametrize("doubtful", ["half", "all"])
def test_the_second_look_keeps_an_equivariant_canonicalizer_exactly_invariant(doubtful):
    torch.manual_seed(0)
    classifier = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 5, stride=4), torch.nn.Flatten(), torch.nn.Linear(100, 5))
    classifier[2].weight.data *= 1e-3  # logits of a few units: no softmax saturates at 1
    canonicalizer = EquivariantCanonicalizer("C4").eval()
    x = images(6, 24)
    with torch.no_grad():
        confidence = classifier(canonicalizer.canonicalize(x)).softmax(dim=1).amax(dim=1)
        threshold = float(confidence.median()) + 1e-6 if doubtful == "half" else 1.0
        model = CanonicalizedModel(canonicalizer, classifier, second_pose_below=threshold).eval()
        share = float(model.doubtful(x).float().mean())
        upright = model(x)
        for k in range(1, 4):
            assert torch.allclose(model(torch.rot90(x, k, dims=(-2, -1))), upright, atol=1e-6)
        assert not torch.allclose(classifier(torch.rot90(x, 1, dims=(-2, -1))), classifier(x), atol=1e-3)
    assert share == (0.5 if doubtful == "half" else 1.0)


def perfect_copy_logits(poses, margin=20.0):
    """Copy g of image b has pose g * poses[b], with confidence ``margin``."""
    b = len(poses)
    logits = torch.zeros(b, 4, 4)
    for i, p in enumerate(poses):
        for g in range(4):
            logits[i, g, (g + p) % 4] = margin
    return logits


def test_consistency_loss_is_zero_for_a_perfect_canonicalizer_and_not_for_a_random_one():
    perfect = perfect_copy_logits([0, 1, 3])
    assert consistency_loss(perfect, C4) < 1e-6
    random = torch.randn(3, 4, 4, generator=torch.Generator().manual_seed(0)) * 3
    assert consistency_loss(random, C4) > 0.3
    # the prior prefers the identity pose of upright images
    assert prior_loss(perfect_copy_logits([0, 0, 0]), C4) < 1e-6
    assert prior_loss(perfect, C4) > 10


def test_contrastive_loss_separates_rotations_and_images():
    distinct = torch.eye(12).reshape(3, 4, 12)  # every copy of every image its own direction
    assert contrastive_loss(distinct, distinct, temperature=0.05) < 1e-6
    same = torch.ones(3, 4, 12)  # all copies alike: nothing to tell apart
    assert contrastive_loss(same, same) == pytest.approx(np.log(12), rel=1e-5)


def sky_photos(count, seed, size=40):
    """Upright toy photos: bright sky above, dark textured ground below."""
    rng = np.random.default_rng(seed)
    photos = []
    for _ in range(count):
        image = rng.integers(0, 60, (size, size, 3)).astype(np.uint8)
        image[: rng.integers(12, 20)] += 180
        photos.append(image)
    return photos


SMALL = {"trunk": "small", "group": "C4", "size": 16, "search": True}


def held_out_loss(model, config, photos) -> float:
    """The training objective (train mode, no gradients) on one fixed batch of 16 views that no training
    step draws (the generator of step 10**6)."""
    loss_fn = CanonLoss(model.group, config.prior, config.consistency, config.contrastive, config.temperature)
    with torch.no_grad():
        return CanonActor(model, loss_fn, photos, 16, config.seed).loss(model.train(), None, {"step": 10 ** 6})[0].item()


@pytest.mark.parametrize("lr, trains", [(3e-3, True), (0.0, False)])
def test_a_few_training_steps_lower_the_loss_on_a_fixed_batch(tmp_path, lr, trains):
    """Deterministic (every draw is seeded by the step): 12 steps cut the loss of a fixed batch from 1.39 to
    0.14; with a learning rate of 0 (nothing learnt) it stays where it was, and the test says so."""
    photos = sky_photos(4, 0)
    config = CanonSettings(canonicalizer=SMALL, steps=12, batch_size=4, lr=lr, save_every=6)
    torch.manual_seed(config.seed)  # the initial weights, as training builds them
    before = held_out_loss(build_canonicalizer(**SMALL), config, photos)
    checkpoint = tmp_path / "canon.pt"
    model, losses = train_canonicalizer(photos, config, checkpoint=checkpoint, progress=False)
    assert len(losses) == 12 and (held_out_loss(model, config, photos) < 0.5 * before) == trains
    state = torch.load(checkpoint, weights_only=True)
    assert state["meta"]["progress"]["step"] == 12 and state["meta"]["network"] == SMALL
    config.steps = 14  # resume continues from step 12
    _, more = train_canonicalizer(photos, config, checkpoint=checkpoint, progress=False)
    assert len(more) == 2


def test_a_canonicalizer_checkpoint_of_the_earlier_format_resumes_exactly(tmp_path):
    """The canonicalizer's checkpoint as its own loop wrote it before the one trainer (``optim.*`` tensors,
    meta ``step`` / ``config`` / ``canonicalizer`` / ``optimizer``): read as the trainer's format, it goes on
    to the weights of a run never stopped."""
    photos = sky_photos(4, 0)
    config = CanonSettings(canonicalizer=SMALL, steps=4, batch_size=4, save_every=2)
    train_canonicalizer(photos, config, checkpoint=tmp_path / "new.pt", progress=False)
    state, meta = load_checkpoint(tmp_path / "new.pt")
    earlier = {("optim." + k[len("optimizer."):] if k.startswith("optimizer.") else k): v
               for k, v in state.items() if not k.startswith("rng.")}
    save_checkpoint(tmp_path / "old.pt", earlier, {"step": 4, "config": {"steps": 4}, "canonicalizer": SMALL,
                                                   "optimizer": {"param_groups": meta["optimizer_groups"]}})
    config.steps = 6
    resumed, more = train_canonicalizer(photos, config, checkpoint=tmp_path / "old.pt", progress=False)
    straight, _ = train_canonicalizer(photos, config, checkpoint=tmp_path / "straight.pt", progress=False)
    assert len(more) == 2
    for a, b in zip(resumed.state_dict().values(), straight.state_dict().values()):
        torch.testing.assert_close(a, b)


def test_the_equivariant_canonicalizer_learns_up_from_the_prior_alone_and_reloads(tmp_path):
    config = CanonSettings(canonicalizer={"trunk": "e2cnn", "group": "C4", "size": 33, "width": 8},
                           steps=40, batch_size=8, lr=1e-2, contrastive=0.0, save_every=20)
    path = tmp_path / "e2cnn_export.pt"
    model, losses = train_canonicalizer(sky_photos(8, 0), config, checkpoint=tmp_path / "e2cnn.pt", progress=False,
                                        export=path)
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    held_out = torch.from_numpy(np.stack(sky_photos(6, 1))).permute(0, 3, 1, 2).float()
    for k in range(4):  # the pose of held-out photos turned by k quarter turns is k quarter turns
        assert model.predict(torch.rot90(held_out, k, dims=(-2, -1))).tolist() == [k] * 6
    loaded = load_canonicalizer(path)
    assert torch.equal(loaded.predict(held_out), model.predict(held_out))
    assert torch.allclose(loaded.pose_logits(held_out), model.pose_logits(held_out), atol=1e-2)


def test_the_equivariant_canonicalizer_refuses_the_contrastive_term():
    config = CanonSettings(canonicalizer={"trunk": "e2cnn", "group": "C4", "size": 33}, steps=1)
    with pytest.raises(ValueError, match="prior alone"):
        train_canonicalizer(sky_photos(2, 0), config, progress=False)


@pytest.mark.parametrize("path", ["ientrack/zoo/canonicalizer_c4.pt", "configs/ablations/canonicalizer_c4_e2cnn.pt",
                                  "configs/ablations/canonicalizer_c4_photos.pt"])
def test_a_shipped_canonicalizer_makes_efficientnet_exactly_c4_invariant_on_photos(path):
    """The shipped canonicalizers are equivariant by construction (search over the copies; steerable
    regular fields), so EfficientNet-Lite0 behind them gives the same logits at every quarter turn."""
    canonicalizer = load_canonicalizer(Path(__file__).resolve().parents[1] / path)
    photos = [cv2.resize(getattr(skimage.data, name)(), (224, 224), interpolation=cv2.INTER_AREA)
              for name in ("astronaut", "chelsea", "coffee")]
    x = torch.from_numpy(np.stack(photos)).permute(0, 3, 1, 2).float()
    model = CanonicalizedModel(canonicalizer, efficientnet_lite0(pretrained=True)).eval()
    with torch.no_grad():
        poses = canonicalizer.predict(x)
        upright = model(x)
        for k in range(1, 4):
            turned = torch.rot90(x, k, dims=(-2, -1))
            assert torch.equal(canonicalizer.predict(turned), (poses + k) % 4)
            assert torch.allclose(model(turned), upright, atol=1e-3)
    assert not torch.allclose(model.extractor(torch.rot90(x, 1, dims=(-2, -1))), model.extractor(x), atol=1e-3)
