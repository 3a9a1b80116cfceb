"""Rotation equivariance tools, independent of tracking (see docs/EQUIVARIANCE.md).

Groups C_N / D_N and their actions, channel-group pooling and field specs, the implicit-equivariance
(IEN) loss, the exact-input-size checker, per-layer equivariance errors, steerable (e2cnn) networks.
e2cnn is imported only when a steerable network is built (``ientrack.equivariance.steerable``).
"""
from .exactness import ExactnessReport, LayerRow, exact_sizes, exactness_report
from .groups import (GroupElement, PlanarGroup, cyclic, dihedral, group_from_name, rotate, transform,
                     transform_batch, transform_regular)
from .ien_loss import IENLoss, disk_mask, ien_step
from .measure import equivariance_errors
from .pooling import FieldSpec, GroupMaxPool, group_max, hetero_widths

__all__ = [
    "ExactnessReport", "LayerRow", "exact_sizes", "exactness_report",
    "GroupElement", "PlanarGroup", "cyclic", "dihedral", "group_from_name", "rotate", "transform",
    "transform_batch", "transform_regular",
    "IENLoss", "disk_mask", "ien_step",
    "equivariance_errors",
    "FieldSpec", "GroupMaxPool", "group_max", "hetero_widths",
]
