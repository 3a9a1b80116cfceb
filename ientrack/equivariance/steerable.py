"""Steerable CNNs (e2cnn, equivariant by construction) and their export to plain torch.

:func:`steerable_cnn` stacks ``R2Conv -> InnerBatchNorm -> ReLU`` blocks on regular fields of C_N or D_N,
then group-pools each field to one invariant channel (and optionally classifies). The network takes and
returns plain tensors. :func:`export_to_torch` turns it (or any exportable e2cnn module) into plain
``Conv2d / BatchNorm2d / ReLU / MaxPool2d`` modules with the same outputs, for fast inference.
Exactly equivariant to 90-degree rotations only at input sizes that :mod:`.exactness` calls exact.
"""
import copy
import warnings

import torch
import torch.nn as nn

from ._e2cnn_compat import import_e2cnn
from .groups import PlanarGroup, group_from_name
from .pooling import FieldSpec, GroupMaxPool


class GroupPooledCNN(nn.Module):
    """``blocks`` (features on regular fields) -> ``gpool`` (one channel per field) -> ``head``."""

    def __init__(self, blocks: nn.Module, gpool: nn.Module, head: nn.Module, group: PlanarGroup,
                 channels: list[int]):
        super().__init__()
        self.blocks, self.gpool, self.head = blocks, gpool, head
        self.group = group
        self.channels = list(channels)

    def fields(self, group: PlanarGroup) -> dict[str, FieldSpec]:
        """The :class:`FieldSpec` of every block module's output (conv, batch norm, ReLU), by module name:
        regular fields of the network's own group (another ``group`` is an error)."""
        if group != self.group:
            raise ValueError(f"this steerable network is built on {self.group.name}, not {group.name}")
        specs = {}
        for i, width in enumerate(self.channels):
            for part in range(3):
                specs[f"blocks.{3 * i + part}"] = FieldSpec.homogeneous(width, self.group.order)
        return specs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.gpool(self.blocks(x)))


class SteerableCNN(GroupPooledCNN):
    """The e2cnn version of :class:`GroupPooledCNN`: plain tensors in and out, e2cnn inside."""

    def __init__(self, blocks, gpool, head, group, channels, in_type):
        super().__init__(blocks, gpool, head, group, channels)
        self.in_type = in_type
        # e2cnn's R2Conv is born holding its eval-mode filter buffers although its flag says training; a
        # real train() drops them, so a fresh model's state dict matches a checkpoint saved while training
        self.train()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, enn = import_e2cnn()
        return self.head(self.gpool(self.blocks(enn.GeometricTensor(x, self.in_type))).tensor)


def _gspace(group: PlanarGroup):
    gspaces, _ = import_e2cnn()
    # FlipRot2dOnR2's default axis (pi / 2) mirrors x -> -x, the same reflection as groups.py
    return gspaces.FlipRot2dOnR2(N=group.n) if group.reflections else gspaces.Rot2dOnR2(N=group.n)


def steerable_cnn(channels=(16, 32), kernel_sizes=(5, 3), strides=(2, 2), paddings=None,
                  group: str | PlanarGroup = "C4", in_channels: int = 3,
                  num_classes: int | None = None) -> SteerableCNN:
    """A steerable CNN; ``channels`` are torch channel counts (multiples of the group order).

    The output is the group-pooled feature map (B, channels[-1] / |G|, H', W'), which rotates with the
    input, or with ``num_classes`` the logits of a global-average-pool + linear head (invariant).
    """
    group = group_from_name(group) if isinstance(group, str) else group
    paddings = paddings if paddings is not None else [0] * len(channels)
    if not len(channels) == len(kernel_sizes) == len(strides) == len(paddings):
        raise ValueError("channels, kernel_sizes, strides and paddings need one entry per layer")
    bad = [c for c in channels if c % group.order]
    if bad:
        raise ValueError(f"channels {bad} are not multiples of |{group.name}| = {group.order}")
    _, enn = import_e2cnn()
    space = _gspace(group)
    in_type = enn.FieldType(space, in_channels * [space.trivial_repr])
    current, modules = in_type, []
    for width, kernel, stride, pad in zip(channels, kernel_sizes, strides, paddings):
        out_type = enn.FieldType(space, (width // group.order) * [space.regular_repr])
        with warnings.catch_warnings():  # e2cnn's basis expansion indexes with uint8 masks (deprecated)
            warnings.filterwarnings("ignore", message="indexing with dtype torch.uint8")
            conv = enn.R2Conv(current, out_type, kernel, padding=pad, stride=stride)
        modules += [conv, enn.InnerBatchNorm(out_type), enn.ReLU(out_type)]
        current = out_type
    fields = channels[-1] // group.order
    head = (nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(fields, num_classes))
            if num_classes else nn.Identity())
    return SteerableCNN(enn.SequentialModule(*modules), enn.GroupPooling(current), head, group,
                        channels, in_type)


def _export_equivariant(module) -> nn.Module:
    was_training = module.training
    exported = module.export()
    module.train(was_training)
    for parent in exported.modules():
        for name, child in parent.named_children():
            if type(child).__name__ == "MaxPoolChannels":
                setattr(parent, name, GroupMaxPool(child.kernel_size))
    if type(exported).__name__ == "MaxPoolChannels":
        exported = GroupMaxPool(exported.kernel_size)
    leftover = [type(m).__name__ for m in exported.modules() if type(m).__module__.startswith("e2cnn")]
    if leftover:
        raise TypeError(f"e2cnn modules {leftover} have no plain-torch export")
    return exported.eval()


def export_to_torch(module: nn.Module) -> nn.Module:
    """A plain-torch copy of a :class:`SteerableCNN` or an exportable e2cnn module, in eval mode.

    Outputs match the e2cnn module in eval mode (to float rounding); nothing of e2cnn is left inside. The
    copy lives on the device of ``module``'s parameters.
    """
    device = next(module.parameters(), torch.empty(0)).device
    if isinstance(module, SteerableCNN):
        return GroupPooledCNN(_export_equivariant(module.blocks), GroupMaxPool(module.group.order),
                              copy.deepcopy(module.head), module.group, module.channels).eval().to(device)
    _, enn = import_e2cnn()
    if isinstance(module, enn.EquivariantModule):
        return _export_equivariant(module).to(device)
    raise TypeError(f"export_to_torch takes a SteerableCNN or an e2cnn EquivariantModule, "
                    f"got {type(module).__name__}")
