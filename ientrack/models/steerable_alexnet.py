"""The RE-SiamNets-style backbone: SiamFC's AlexNet rebuilt from steerable (e2cnn) convolutions on C_N.

Same kernels, strides and pools as :class:`ientrack.models.alexnet.AlexNetV1` (no padding, total stride 8,
so 127 and 255 are exact sizes), every layer on regular fields of C4 or C8, and a group max pool at the
end: the features are invariant per field and rotate with the input (exactly for 90-degree turns at
exact sizes). There are no grouped convolutions in e2cnn, so the default widths
``(64, 192, 256, 256, 256)`` are chosen to keep the multiply-adds of a 255 crop below AlexNet's
(2.3 G against 2.7 G); the pooled output has ``256 / N`` channels.

Two forms share one layout of weights:

- :class:`SteerableAlexNet` (e2cnn inside): the training form; :meth:`SteerableAlexNet.export` gives
- :class:`SteerableAlexNetExport` (plain ``Conv2d / BatchNorm2d / ReLU / MaxPool2d`` + group max pool):
  the inference form, which the tracker runs and which needs no e2cnn. Tracker checkpoints store the
  EXPORTED state dict (``backbone.*``); the trainer exports before writing them.
"""
import math
import warnings

import torch
import torch.nn as nn

from ientrack.equivariance._e2cnn_compat import import_e2cnn
from ientrack.equivariance.exactness import tensor_options
from ientrack.equivariance.groups import PlanarGroup, group_from_name
from ientrack.equivariance.pooling import GroupMaxPool
from ientrack.equivariance.steerable import export_to_torch

DEFAULT_CHANNELS = (64, 192, 256, 256, 256)
LAYERS = ((11, 2, True), (5, 1, True), (3, 1, False), (3, 1, False), (3, 1, False))  # kernel, stride, pool after
BN_EPS, BN_MOMENTUM = 1e-6, 0.05  # as AlexNetV1


def _rotation_group(group) -> PlanarGroup:
    group = group_from_name(group) if isinstance(group, str) else group
    if group.reflections:
        raise ValueError(f"steerable AlexNet supports rotation groups C_N only, got {group.name}")
    return group


def _check_channels(channels, order: int) -> tuple:
    channels = tuple(int(c) for c in channels)
    if len(channels) != len(LAYERS) or any(c % order for c in channels):
        raise ValueError(f"steerable AlexNet needs {len(LAYERS)} channel counts, multiples of {order}; got {channels}")
    return channels


def _he_initialised(conv):
    """``conv`` (an ``R2Conv``) with random weights scaled so that its expanded filter has He's variance
    ``2 / fan_in`` (e2cnn's ``generalized_he_init`` balances each basis element but takes seconds)."""
    with torch.no_grad():
        conv.weights.normal_()
        kernel, _ = conv.expand_parameters()
        conv.weights.mul_(math.sqrt(2.0 / kernel[0].numel()) / kernel.std())
    return conv


class SteerableAlexNet(nn.Module):
    """Training form (e2cnn): ``B x 3 x H x W`` RGB 0..255 -> ``B x channels[-1]/N x h x w`` invariant features."""

    total_stride = 8

    def __init__(self, group="C4", channels=DEFAULT_CHANNELS):
        super().__init__()
        gspaces, enn = import_e2cnn()
        self.group = _rotation_group(group)
        self.channels = _check_channels(channels, self.group.order)
        self.out_channels = self.channels[-1] // self.group.order
        space = gspaces.Rot2dOnR2(N=self.group.n)
        self.in_type = current = enn.FieldType(space, 3 * [space.trivial_repr])
        layers = []
        for i, (width, (kernel, stride, pool)) in enumerate(zip(self.channels, LAYERS)):
            out_type = enn.FieldType(space, (width // self.group.order) * [space.regular_repr])
            with warnings.catch_warnings():  # e2cnn's basis expansion indexes with uint8 masks (deprecated)
                warnings.filterwarnings("ignore", message="indexing with dtype torch.uint8")
                layers.append(_he_initialised(enn.R2Conv(current, out_type, kernel, stride=stride, initialize=False)))
            if i < len(LAYERS) - 1:
                layers += [enn.InnerBatchNorm(out_type, eps=BN_EPS, momentum=BN_MOMENTUM), enn.ReLU(out_type)]
            if pool:
                layers.append(enn.PointwiseMaxPool(out_type, 3, 2))
            current = out_type
        self.features = enn.SequentialModule(*layers)
        self.pool = enn.GroupPooling(current)

    def forward(self, x):
        _, enn = import_e2cnn()
        return self.pool(self.features(enn.GeometricTensor(x, self.in_type))).tensor

    def export(self) -> "SteerableAlexNetExport":
        """The plain-torch inference form with the same outputs (eval mode); no e2cnn inside."""
        plain = SteerableAlexNetExport(self.group, self.channels)
        plain.features.load_state_dict(export_to_torch(self.features).state_dict())
        return plain.to(**tensor_options(self)).eval()


class SteerableAlexNetExport(nn.Module):
    """Inference form (plain torch) of :class:`SteerableAlexNet`; loads its exported state dict."""

    total_stride = 8

    def __init__(self, group="C4", channels=DEFAULT_CHANNELS):
        super().__init__()
        self.group = _rotation_group(group)
        self.channels = _check_channels(channels, self.group.order)
        self.out_channels = self.channels[-1] // self.group.order
        layers, c_in = [], 3
        for i, (width, (kernel, stride, pool)) in enumerate(zip(self.channels, LAYERS)):
            layers.append(nn.Conv2d(c_in, width, kernel, stride))
            if i < len(LAYERS) - 1:
                layers += [nn.BatchNorm2d(width, eps=BN_EPS, momentum=BN_MOMENTUM), nn.ReLU(inplace=True)]
            if pool:
                layers.append(nn.MaxPool2d(3, 2))
            c_in = width
        self.features = nn.Sequential(*layers)
        self.pool = GroupMaxPool(self.group.order)

    def forward(self, x):
        return self.pool(self.features(x))


# registry factories: the plain names are the trackers' (inference), the ``_e2cnn`` names train
def steerable_alexnet_c4(channels=DEFAULT_CHANNELS) -> SteerableAlexNetExport:
    return SteerableAlexNetExport("C4", channels)


def steerable_alexnet_c8(channels=DEFAULT_CHANNELS) -> SteerableAlexNetExport:
    return SteerableAlexNetExport("C8", channels)


def steerable_alexnet_c4_e2cnn(channels=DEFAULT_CHANNELS) -> SteerableAlexNet:
    return SteerableAlexNet("C4", channels)


def steerable_alexnet_c8_e2cnn(channels=DEFAULT_CHANNELS) -> SteerableAlexNet:
    return SteerableAlexNet("C8", channels)
