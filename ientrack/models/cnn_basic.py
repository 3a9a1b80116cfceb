"""CNNBasic, the small CNN of the IEN paper's Rot-MNIST experiments (Khandelwal et al. 2021).

Layout (its public implementation): six ``conv -> BatchNorm -> ELU`` blocks, no conv biases,

=========  ======  =======  ==============================
block      kernel  padding  after
=========  ======  =======  ==============================
block1     7       1
block2     5       2        2 x 2 max pool
block3     5       2
block4     5       2        2 x 2 max pool
block5     5       2
block6     5       0        channel-group max pool (FieldSpec)
=========  ======  =======  ==============================

then global average pooling and ``Linear(fields, 128) -> BatchNorm1d -> ELU -> Linear(128, classes)``.
Base widths 128 / 192 / 256 / 256 / 384 / 512 give 10.88 M parameters with R4 fields (the lead's 10.9 M
for the published homogeneous model); the published heterogeneous model (88 / 132 / 176 / 176 / 264 / 352,
R4 : R2 : R1) is ``field_spec="hetero"`` with group R4 (5.16 M). A 28 x 28 input is exact
(24 -> 12 -> 6 -> 2 pixels, every 2 x 2 pool sees an even size); 29 is not.
"""
from collections import OrderedDict

import torch.nn as nn

from ientrack.models.cls_fields import BuiltFields, FieldPool

CNN_BASIC_WIDTHS = (128, 192, 256, 256, 384, 512)
KERNELS = (7, 5, 5, 5, 5, 5)
PADDINGS = (1, 2, 2, 2, 2, 0)
POOL_AFTER = (2, 4)
HIDDEN = 128


def _block(c_in: int, c_out: int, kernel: int, padding: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, padding=padding, bias=False), nn.BatchNorm2d(c_out),
                         nn.ELU(inplace=True))


class CNNBasic(nn.Module):
    """CNNBasic with one :class:`FieldSpec` per block (``specs``, six of them) setting its channels."""

    def __init__(self, specs, num_classes: int = 10, in_channels: int = 1):
        super().__init__()
        if len(specs) != len(KERNELS):
            raise ValueError(f"CNNBasic has {len(KERNELS)} blocks, got {len(specs)} field specs")
        layers, c_in = OrderedDict(), in_channels
        for i, (spec, kernel, pad) in enumerate(zip(specs, KERNELS, PADDINGS), 1):
            layers[f"block{i}"] = _block(c_in, spec.channels, kernel, pad)
            c_in = spec.channels
            if i in POOL_AFTER:
                layers[f"pool{i}"] = nn.MaxPool2d(2, 2)
        self.features = nn.Sequential(layers)
        self.field_pool = FieldPool(specs[-1])
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(specs[-1].fields, HIDDEN),
                                  nn.BatchNorm1d(HIDDEN), nn.ELU(inplace=True), nn.Linear(HIDDEN, num_classes))
        self.fields = BuiltFields({f"features.block{i}": spec for i, spec in enumerate(specs, 1)})
        self.channels = [spec.channels for spec in specs]

    def forward(self, x):
        return self.head(self.field_pool(self.features(x)))
