"""SiamFC's AlexNet, the backbone registry, the correlation head and conv-BN fusion."""
import pytest
import torch

from ientrack.models import registry
from ientrack.models.alexnet import AlexNetV1
from ientrack.models.heads import XCorrHead
from ientrack.models.registry import available_backbones, build_backbone, register_backbone
from ientrack.models.siamese import SiameseNet, fuse_conv_bn
from ientrack.trackers.siamfc import is_exact_input


@pytest.fixture(scope="module")
def alexnet():
    torch.manual_seed(0)
    net = build_backbone("alexnet")
    with torch.no_grad():  # non-trivial BN statistics, so that fusion has something to fold
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-1, 1), m.running_var.uniform_(0.5, 2), m.weight.uniform_(0.5, 1.5)
    return net.eval()


def test_alexnet_sizes_stride_and_exact_inputs(alexnet):
    assert isinstance(alexnet, AlexNetV1) and alexnet.total_stride == 8 and alexnet.out_channels == 256
    with torch.no_grad():
        assert alexnet(torch.zeros(1, 3, 127, 127)).shape == (1, 256, 6, 6)
        assert alexnet(torch.zeros(2, 3, 255, 255)).shape == (2, 256, 22, 22)
    assert [is_exact_input(alexnet, n) for n in (127, 255, 128, 256, 135)] == [True, True, False, False, True]
    convs = [m for m in alexnet.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.kernel_size[0], c.stride[0], c.out_channels, c.groups) for c in convs] == [
        (11, 2, 96, 1), (5, 1, 256, 2), (3, 1, 384, 1), (3, 1, 384, 2), (3, 1, 256, 2)]


def test_registry_lists_builds_and_rejects(monkeypatch):
    assert "alexnet" in available_backbones()
    monkeypatch.setattr(registry, "_BACKBONES", dict(registry._BACKBONES))  # leave the real one untouched
    register_backbone("tiny_test", lambda channels=4: torch.nn.Conv2d(3, channels, 3))
    assert "tiny_test" in available_backbones()
    assert build_backbone("tiny_test", channels=5).out_channels == 5
    with pytest.raises(ValueError, match="unknown backbone 'nope'; known backbones: .*alexnet"):
        build_backbone("nope")


def test_head_pairs_and_bank_agree_with_a_direct_correlation():
    torch.manual_seed(0)
    z, x = torch.randn(2, 8, 3, 3), torch.randn(2, 8, 7, 7)
    head = XCorrHead(out_scale=0.5)
    pairs = head(z, x)
    assert pairs.shape == (2, 1, 5, 5)
    direct = 0.5 * (x[1, :, 2:5, 1:4] * z[1]).sum()
    assert torch.allclose(pairs[1, 0, 2, 1], direct, atol=1e-5)
    bank = head.against_bank(z, x)  # every search with every template
    assert bank.shape == (2, 2, 5, 5)
    assert torch.allclose(bank[0, 0], pairs[0, 0], atol=1e-5) and torch.allclose(bank[1, 1], pairs[1, 0], atol=1e-5)
    with pytest.raises(ValueError, match="do not pair"):
        head(z[:1], x)


def test_fused_backbone_gives_the_same_features_in_channels_last(alexnet):
    fused = fuse_conv_bn(alexnet).to(memory_format=torch.channels_last)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    x = torch.rand(2, 3, 127, 127) * 255
    with torch.no_grad():
        ref = alexnet(x)
        out = fused(x.contiguous(memory_format=torch.channels_last))
    assert torch.allclose(out, ref, atol=1e-4 * ref.abs().max())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in alexnet.modules())  # the original is untouched


def test_siamese_net_gives_17x17_responses(alexnet):
    net = SiameseNet(alexnet)
    with torch.no_grad():
        out = net(torch.rand(2, 3, 127, 127) * 255, torch.rand(2, 3, 255, 255) * 255)
    assert out.shape == (2, 1, 17, 17)
