"""ien_siamfc: the IEN term in Siamese training (known zero, gradients, the trainer's hook, beta = 0)."""
import pytest
import skimage.data
import torch

from ientrack.data.pairs import StillImagePairSource, TrainingPairs
from ientrack.equivariance.groups import cyclic, transform
from ientrack.equivariance.ien_loss import IENLoss
from ientrack.trackers.registry import build_tracker, load_config
from ientrack.train.siamese_loss import BalancedLoss
from ientrack.train.ien_tracker_loss import build_ien, ien_forward_backward, ien_train_step
from ientrack.train.tracker_trainer import TrainSettings, build_siamese_net, train_tracker

EXEMPLAR, INSTANCE = 87, 119  # exact for AlexNet (127 - 40, 255 - 136): 1x1 and 5x5 features, 5x5 response
CONFIG = dict(load_config("ien_siamfc"), exemplar_size=EXEMPLAR, instance_size=INSTANCE)
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


def equivariance_term(net, z, x):
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    with build_ien(net.backbone, IEN, EXEMPLAR) as ien:
        _, task, equiv = ien_forward_backward(net, ien, BalancedLoss(5, 8), z, x, scaler)
    return task.item(), equiv.item()


def test_the_config_taps_the_alexnet_layers_as_c4_fields():
    ien = build_ien(build_siamese_net(CONFIG).backbone, IEN, EXEMPLAR)
    assert ien.group == cyclic(4) and ien.beta == 0.1
    assert {name: spec.fields for name, spec in ien.layers.items()} == {
        "features.2": 24, "features.6": 64, "features.10": 96, "features.13": 96, "features.14": 64}
    ien.remove()
    with pytest.raises(KeyError, match="features.99"):
        build_ien(build_siamese_net(CONFIG).backbone, dict(IEN, layers={"features.99": 4}), EXEMPLAR)


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
    with build_ien(net.backbone, dict(IEN, beta=1.0), EXEMPLAR) as ien:  # a term that matters in 6 steps
        losses = [ien_train_step(net, ien, loss_fn, optimizer, scaler, z, x,  # the same elements each step
                                 generator=torch.Generator().manual_seed(0)).item() for _ in range(6)]
        assert net.backbone.features[0].weight.grad is None  # zeroed after each step
    assert all(b < a for a, b in zip(losses, losses[1:])) and losses[-1] < 0.95 * losses[0], losses


@pytest.mark.parametrize("beta, calls", [(0.0, 0), (1.0, 1)])
def test_the_trainer_adds_the_term_unless_beta_is_zero(tmp_path, monkeypatch, beta, calls):
    computed = []
    original = IENLoss.loss
    monkeypatch.setattr(IENLoss, "loss", lambda self, elements: computed.append(1) or original(self, elements))
    config = dict(CONFIG, train=dict(CONFIG["train"], ien=dict(IEN, beta=beta)))
    assert TrainSettings.from_config(config).ien["beta"] == beta
    if beta == 0:
        assert build_ien(None, config["train"]["ien"], 0) is None  # nothing is hooked or built
    result = train_tracker(config, [photos()], tmp_path, epochs=1, batch_size=2, device="cpu", workers=0,
                           max_steps=1, progress=False, export=tmp_path / "w.pt")  # never the zoo's file
    assert result["step"] == 1 and len(computed) == calls
    tracker = build_tracker("ien_siamfc", weights=str(result["export"]), device="cpu")
    z = rotated_batch(1)[0].float()
    with torch.no_grad():
        trained, exported = result["model"].backbone.eval()(z), tracker.backbone(z)
    assert (exported - trained).norm() < 1e-2 * trained.norm()  # the export is the trained network (half precision)
