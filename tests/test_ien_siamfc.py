"""The AlexNet ien_siamfc (configs/ien_siamfc_alexnet.yaml): the IEN term in Siamese training (known zero,
the search branch, gradients, the trainer's hook, beta = 0)."""
from pathlib import Path

import pytest
import skimage.data
import torch

from ientrack.data.pairs import StillImagePairSource, TrainingPairs
from ientrack.equivariance.groups import cyclic, transform
from ientrack.equivariance.ien_loss import IENLoss, double
from ientrack.trackers.registry import build_tracker, load_config
from ientrack.train import trainer
from ientrack.train.settings import TrackerSettings
from ientrack.train.siamese_loss import BalancedLoss
from ientrack.train.tracker_actor import TrackerActor, build_ien
from ientrack.train.tracker_trainer import build_siamese_net, train_tracker

EXEMPLAR, INSTANCE = 87, 119  # exact for AlexNet (127 - 40, 255 - 136): 1x1 and 5x5 features, 5x5 response
ALEXNET_IEN = str(Path(__file__).resolve().parents[1] / "configs" / "ien_siamfc_alexnet.yaml")
CONFIG = dict(load_config(ALEXNET_IEN), exemplar_size=EXEMPLAR, instance_size=INSTANCE)
IEN = CONFIG["train"]["ien"]


def photos():
    return StillImagePairSource([skimage.data.astronaut(), skimage.data.chelsea(), skimage.data.coffee()])


def rotated_batch(n=2):
    pairs = TrainingPairs([photos()], EXEMPLAR, INSTANCE, rotate=True, seed=0)
    z, x, _ = zip(*(pairs[i] for i in range(n)))
    return torch.stack(z), torch.stack(x)


def alexnet_pair(symmetric=False):
    """SiamFC's AlexNet (training mode) in a Siamese net; ``symmetric``: every kernel averaged over C4."""
    torch.manual_seed(0)
    net = build_siamese_net(CONFIG).train()
    if symmetric:
        with torch.no_grad():
            for conv in [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]:
                conv.weight.copy_(torch.stack([transform(conv.weight, g) for g in cyclic(4).elements]).mean(0))
    return net


def actor_terms(net, z, x, ien_section=IEN, generator=None):
    """``(task, equiv)`` of the tracker's actor on one batch (elements from ``generator``), and the elements."""
    with build_ien(net.backbone, ien_section) as ien:
        drawn = []
        sample = ien.sample
        ien.sample = lambda count, _: drawn.append(sample(count, generator)) or drawn[-1]
        _, terms = TrackerActor(net, BalancedLoss(5, 8), ien, torch.device("cpu")).loss(net, (z, x), {})
    return terms["task"], terms["equiv"], drawn[0]


def equivariance_term(net, z, x):
    task, equiv, _ = actor_terms(net, z, x)
    return task, equiv


def test_the_config_taps_the_layers_the_alexnet_declares_as_c4_fields():
    ien = build_ien(build_siamese_net(CONFIG).backbone, IEN)
    assert ien.group == cyclic(4) and ien.beta == 0.1
    assert {name: spec.fields for name, spec in ien.layers.items()} == {
        "features.2": 24, "features.6": 64, "features.10": 96, "features.13": 96, "features.14": 64}
    ien.remove()
    with pytest.raises(ValueError, match="the backbone declares its layers"):  # a config no longer names them
        build_ien(build_siamese_net(CONFIG).backbone, dict(IEN, layers={"features.2": 4}))


def test_the_term_compares_the_search_branch():
    """The term of the actor equals IENLoss on the backbone's own pass over cat([x, g x]) with the same
    elements, and differs from the one on cat([z, g z]): computed on the exemplar branch, this fails."""
    net = alexnet_pair()
    z, x = rotated_batch()
    _, equiv, elements = actor_terms(net, z, x, generator=torch.Generator().manual_seed(3))

    def term_on(batch):
        with build_ien(net.backbone, IEN) as ien:
            net.backbone(double(batch.float(), elements))
            return ien.loss(elements).item()

    search, exemplar = term_on(x), term_on(z)
    assert equiv == pytest.approx(search, rel=1e-5) and abs(exemplar - search) > 0.05 * search


def test_the_term_vanishes_for_rotation_symmetric_kernels_only():
    z, x = rotated_batch()
    _, plain = equivariance_term(alexnet_pair(), z, x)
    task, symmetric = equivariance_term(alexnet_pair(symmetric=True), z, x)
    assert plain > 1e-3 and symmetric < 1e-9 * plain
    assert 0.5 < task < 1.0  # the SiamFC loss of both halves, near log 2 at the start


def test_a_few_ien_steps_lower_the_total_loss_on_a_fixed_batch():
    net = alexnet_pair()
    z, x = rotated_batch()
    optimizer = torch.optim.SGD(net.parameters(), lr=1e-2, momentum=0.9)
    scaler, loss_fn = torch.amp.GradScaler("cpu", enabled=False), BalancedLoss(5, 8)
    with build_ien(net.backbone, dict(IEN, beta=1.0)) as ien:  # a term that matters in 6 steps
        sample = ien.sample
        ien.sample = lambda count, _: sample(count, torch.Generator().manual_seed(0))  # the same elements each step
        actor = TrackerActor(net, loss_fn, ien, torch.device("cpu"))
        losses = [trainer.train_step(actor, net, optimizer, scaler, (z, x), {}, None)["loss"] for _ in range(6)]
        assert net.backbone.features[0].weight.grad is None  # zeroed after each step
    assert all(b < a for a, b in zip(losses, losses[1:])) and losses[-1] < 0.95 * losses[0], losses


@pytest.mark.parametrize("beta, calls", [(0.0, 0), (1.0, 1)])
def test_the_trainer_adds_the_term_unless_beta_is_zero(tmp_path, monkeypatch, beta, calls):
    computed = []
    original = IENLoss.loss
    monkeypatch.setattr(IENLoss, "loss", lambda self, *args: computed.append(1) or original(self, *args))
    config = dict(CONFIG, train=dict(CONFIG["train"], ien=dict(IEN, beta=beta)))
    assert TrackerSettings.from_config(config).ien["beta"] == beta
    if beta == 0:
        assert build_ien(None, config["train"]["ien"]) is None  # nothing is hooked or built
    result = train_tracker(config, [photos()], tmp_path, epochs=1, batch_size=2, device="cpu", workers=0,
                           max_steps=1, progress=False, export=tmp_path / "w.pt")  # never the zoo's file
    assert result["step"] == 1 and len(computed) == calls
    tracker = build_tracker(ALEXNET_IEN, weights=str(result["export"]), device="cpu")
    z = rotated_batch(1)[0].float()
    with torch.no_grad():
        trained, exported = result["model"].backbone.eval()(z), tracker.backbone(z)
    assert (exported - trained).norm() < 1e-2 * trained.norm()  # the export is the trained network (half precision)
