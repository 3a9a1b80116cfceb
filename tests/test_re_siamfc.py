"""re_siamfc: the steerable AlexNet, its plain-torch export, rotation equivariance, cost, training and loading."""
import numpy as np
import pytest
import skimage.data
import torch
import torch.nn as nn

from ientrack.checkpoint import load_checkpoint
from ientrack.data.pairs import StillImagePairSource
from ientrack.models.alexnet import AlexNetV1
from ientrack.models.registry import build_backbone
from ientrack.models.steerable_alexnet import SteerableAlexNet, SteerableAlexNetExport
from ientrack.trackers.registry import build_tracker, load_config
from ientrack.train.tracker_trainer import train_tracker

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # e2cnn's uint8-indexing deprecation
SMALL_C8 = (16, 16, 16, 16, 16)


def with_batch_statistics(net, size=127):
    """``net`` after two training-mode passes (non-trivial BN running statistics), in eval mode."""
    torch.manual_seed(1)
    net.train()
    with torch.no_grad():
        for _ in range(2):
            net(torch.rand(2, 3, size, size) * 255)
    return net.eval()


@pytest.fixture(scope="module")
def c4():
    torch.manual_seed(0)
    return with_batch_statistics(SteerableAlexNet("C4"))


def rotation_error(net, x):
    """Relative error between ``net(rot90(x))`` and ``rot90(net(x))``."""
    with torch.no_grad():
        expected = torch.rot90(net(x), 1, dims=(-2, -1))
        return float((net(torch.rot90(x, 1, dims=(-2, -1))) - expected).norm() / expected.norm())


def test_export_is_plain_torch_and_matches_the_e2cnn_model(c4):
    plain = c4.export()
    assert isinstance(plain, SteerableAlexNetExport)
    assert not [type(m).__name__ for m in plain.modules() if type(m).__module__.startswith("e2cnn")]
    x = torch.rand(2, 3, 127, 127) * 255
    with torch.no_grad():
        expected = c4(x)
        torch.testing.assert_close(plain(x), expected, rtol=1e-5, atol=1e-5)
    assert expected.shape == (2, 64, 6, 6) and plain.out_channels == 64
    # the registry's inference form loads the exported state dict as it is (no e2cnn needed to build it)
    fresh = build_backbone("steerable_alexnet_c4")
    fresh.load_state_dict(plain.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(fresh.eval()(x), expected, rtol=1e-5, atol=1e-5)


def test_c4_features_turn_with_the_input_at_exact_sizes_only(c4):
    plain = c4.export()
    x = torch.rand(1, 3, 127, 127) * 255
    assert rotation_error(plain, x) < 1e-5
    assert rotation_error(plain, torch.rand(1, 3, 255, 255) * 255) < 1e-5
    assert rotation_error(plain, torch.rand(1, 3, 128, 128) * 255) > 1e-3  # one pixel off: the grid shifts
    assert rotation_error(fixed_alexnet(), x) > 0.1  # the plain AlexNet does not


def fixed_alexnet():
    torch.manual_seed(0)
    return AlexNetV1().eval()


def test_c8_export_matches_and_is_c4_equivariant():
    torch.manual_seed(0)
    net = with_batch_statistics(SteerableAlexNet("C8", SMALL_C8))
    plain = net.export()
    x = torch.rand(2, 3, 127, 127) * 255
    with torch.no_grad():
        torch.testing.assert_close(plain(x), net(x), rtol=1e-5, atol=1e-5)
    assert plain(x).shape == (2, 2, 6, 6) and rotation_error(plain, x) < 1e-5


def multiply_adds(net, size=255):
    """Multiply-adds of every ``Conv2d`` in ``net`` on a ``size`` crop."""
    total = []
    hooks = [m.register_forward_hook(lambda m, i, o: total.append(o.numel() * m.weight[0].numel()))
             for m in net.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        net(torch.zeros(1, 3, size, size))
    for h in hooks:
        h.remove()
    return sum(total)


def test_exported_cost_stays_within_alexnets():
    """The speed target (>= 0.8x siamfc) as a count: the export costs fewer multiply-adds than AlexNet."""
    steerable, alexnet = multiply_adds(build_backbone("steerable_alexnet_c4")), multiply_adds(fixed_alexnet())
    assert alexnet == pytest.approx(2.72e9, rel=0.01)
    assert 0.7 * alexnet < steerable < alexnet


def test_without_weights_the_tracker_names_its_training_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="re_siamfc.pt.*tools/train.py --tracker re_siamfc"):
        build_tracker("re_siamfc", device="cpu", weights=str(tmp_path / "re_siamfc.pt"))


def test_training_exports_plain_weights_that_the_tracker_loads(tmp_path):
    """One e2cnn training step on small crops (87 / 151, exact sizes), exported as the plain state dict."""
    config = dict(load_config("re_siamfc"), exemplar_size=87, instance_size=151)
    photos = StillImagePairSource([skimage.data.astronaut(), skimage.data.coffee()])
    result = train_tracker(config, [photos], tmp_path / "run", epochs=1, batch_size=2, device="cpu", workers=0,
                           max_steps=1, progress=False, export=tmp_path / "re.pt")
    assert isinstance(result["model"].backbone, SteerableAlexNet)
    state, meta = load_checkpoint(tmp_path / "re.pt")
    plain = result["model"].backbone.export()
    assert set(state) == {f"backbone.{k}" for k in plain.state_dict()} and meta["backbone"] == "steerable_alexnet_c4"
    tracker = build_tracker("re_siamfc", weights=str(tmp_path / "re.pt"), device="cpu", num_rotations=4)
    x = torch.rand(1, 3, 127, 127) * 255
    with torch.no_grad():  # float16 storage: equal to the trained net's export up to half precision
        torch.testing.assert_close(tracker.backbone(x), plain(x), rtol=2e-2, atol=2e-2 * plain(x).abs().max().item())
    frame = skimage.data.astronaut()
    boxes, _ = tracker.track([frame, frame], [200, 100, 60, 60])
    assert np.isfinite(boxes).all() and len(tracker.template_angles) == 4
