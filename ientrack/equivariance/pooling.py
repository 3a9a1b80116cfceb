"""Channel-group pooling and heterogeneous field specs (the IEN paper's R8 / R4 / R2 / R1 groups).

Layout: a layer's channels are split into groups *in the order the spec lists them*; a group of
order k with n fields takes ``n * k`` consecutive channels, field i of it the k channels
``[offset + i*k, offset + (i+1)*k)`` (the same layout as e2cnn's regular fields). Pooling takes the
max over each field's k channels, so a layer with spec ``[(8, 2), (1, 3)]`` (19 channels) pools to 5.
"""
import math
from dataclasses import dataclass

import torch
import torch.nn as nn


def group_max(features: torch.Tensor, order: int) -> torch.Tensor:
    """Max over consecutive groups of ``order`` channels: (B, F * order, H, W) -> (B, F, H, W)."""
    b, c = features.shape[:2]
    return features.reshape(b, c // order, order, *features.shape[2:]).amax(dim=2)


class GroupMaxPool(nn.Module):
    """Plain-torch module for :func:`group_max` (what e2cnn's ``GroupPooling`` computes on regular fields)."""

    def __init__(self, order: int):
        super().__init__()
        self.order = order

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if features.shape[1] % self.order:
            raise ValueError(f"GroupMaxPool({self.order}) got {features.shape[1]} channels, not a multiple")
        return group_max(features, self.order)

    def extra_repr(self):
        return f"order={self.order}"


@dataclass(frozen=True)
class FieldSpec:
    """A layer's channels as groups of ``(order, count)``: ``count`` fields of ``order`` channels each."""

    groups: tuple[tuple[int, int], ...]

    def __init__(self, groups):
        groups = tuple((int(k), int(n)) for k, n in groups)
        if not groups or any(k < 1 or n < 0 for k, n in groups) or not any(n for _, n in groups):
            raise ValueError(f"a FieldSpec needs (order >= 1, count >= 0) pairs with some fields, got {groups}")
        object.__setattr__(self, "groups", groups)

    @classmethod
    def homogeneous(cls, channels: int, order: int) -> "FieldSpec":
        """``channels / order`` fields of one order (order 1: plain channels, pooling is the identity)."""
        if channels % order:
            raise ValueError(f"{channels} channels do not split into fields of order {order}")
        return cls([(order, channels // order)])

    @property
    def channels(self) -> int:
        """Number of feature-map channels the spec describes."""
        return sum(k * n for k, n in self.groups)

    @property
    def fields(self) -> int:
        """Number of pooled channels (one per field)."""
        return sum(n for _, n in self.groups)

    def pool(self, features: torch.Tensor) -> torch.Tensor:
        """Max over each field's channels: (B, channels, H, W) -> (B, fields, H, W)."""
        if features.dim() != 4 or features.shape[1] != self.channels:
            raise ValueError(f"FieldSpec {self.groups} expects (B, {self.channels}, H, W) features, "
                             f"got {tuple(features.shape)}")
        pooled, start = [], 0
        for order, count in self.groups:
            pooled.append(group_max(features[:, start:start + order * count], order))
            start += order * count
        return torch.cat(pooled, dim=1)

    __call__ = pool


def hetero_widths(base_channels: int, ratio=(1, 1, 1, 1), orders=(8, 4, 2, 1),
                  reduction: float = 0.3) -> FieldSpec:
    """A heterogeneous spec with about ``(1 - reduction) * base_channels`` channels.

    Sizing rule (ours, documented in docs/EQUIVARIANCE.md): the channel budget of a homogeneous layer of
    ``base_channels`` is cut by ``reduction`` and split among ``orders`` so that the *numbers of fields*
    follow ``ratio``; each order with a non-zero ratio keeps at least one field. With the defaults a
    64-channel layer becomes 3 x (R8, R4, R2, R1) = 45 channels and 12 pooled fields (29.7% fewer
    channels, while a 64-channel R8 layer has 8 pooled fields). The achieved reduction is
    ``1 - spec.channels / base_channels``.
    """
    if len(ratio) != len(orders):
        raise ValueError(f"ratio {ratio} and orders {orders} must have the same length")
    if not 0 <= reduction < 1 or base_channels < 1 or any(r < 0 for r in ratio) or not any(ratio):
        raise ValueError(f"need base_channels >= 1, 0 <= reduction < 1 and non-negative ratios, got "
                         f"{base_channels}, {reduction}, {ratio}")
    budget = (1 - reduction) * base_channels
    scale = budget / sum(r * k for r, k in zip(ratio, orders))
    counts = [max(1, math.floor(scale * r + 0.5)) if r else 0 for r in ratio]
    return FieldSpec([(k, n) for k, n in zip(orders, counts) if n])
