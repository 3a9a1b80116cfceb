"""VGG-style classifiers for small images (Simonyan & Zisserman's configuration A, "VGG-11", with BN).

``3 x 3`` convs (padding 1) + BatchNorm + ReLU, ``2 x 2`` max pools (``"M"``), then the last layer's
channel-group pooling, global average pooling and one linear layer (no 4096-wide FC layers: the inputs
are 64-px Tiny-ImageNet / ImageNet-subset images). ``width_mult`` scales every base width (0.25: the
"small VGG", 16 ... 128 channels). A multiple of 32 pixels (e.g. 64) is exact: every pool sees an even size.
"""
from collections import OrderedDict

import torch.nn as nn

from ientrack.models.cls_fields import BuiltFields, FieldPool

VGG11_LAYOUT = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")


def vgg_base_widths(layout=VGG11_LAYOUT, width_mult: float = 1.0) -> list:
    """The conv widths of ``layout`` scaled by ``width_mult``."""
    return [max(1, round(v * width_mult)) for v in layout if v != "M"]


class VGG(nn.Module):
    """A VGG with one :class:`FieldSpec` per conv of ``layout`` (``specs``) setting its channels."""

    def __init__(self, specs, num_classes: int, in_channels: int = 3, layout=VGG11_LAYOUT):
        super().__init__()
        convs = sum(v != "M" for v in layout)
        if len(specs) != convs:
            raise ValueError(f"layout {layout} has {convs} convs, got {len(specs)} field specs")
        layers, c_in, index, pools = OrderedDict(), in_channels, 0, 0
        for v in layout:
            if v == "M":
                pools += 1
                layers[f"pool{pools}"] = nn.MaxPool2d(2, 2)
                continue
            c_out = specs[index].channels
            index += 1
            layers[f"conv{index}"] = nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                                                   nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))
            c_in = c_out
        self.features = nn.Sequential(layers)
        self.field_pool = FieldPool(specs[-1])
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(specs[-1].fields, num_classes))
        self.fields = BuiltFields({f"features.conv{i}": spec for i, spec in enumerate(specs, 1)})
        self.channels = [spec.channels for spec in specs]

    def forward(self, x):
        return self.head(self.field_pool(self.features(x)))
