"""The classifier's actor: a batch of labelled images to cross entropy, plus the IEN term where asked.

Each step turns every image by a uniform random angle (on the device, seeded by the step and the rank, so
a resumed run sees the same data), then either :func:`ientrack.equivariance.ien_step` (a model that
declares its ``fields`` and is not equivariant by construction: cross entropy on ``cat([x, g x])`` with
the labels repeated, plus ``beta`` x the IEN term; ``beta`` may ramp up) or plain cross entropy.
"""
import math
from typing import Optional

import torch
import torch.nn.functional as F

from ientrack.data.cls_transforms import random_rotate
from ientrack.equivariance import IENLoss, group_from_name, ien_step
from ientrack.equivariance.steerable import GroupPooledCNN
from ientrack.train.settings import ClsConfig


def build_ien(net: torch.nn.Module, config: ClsConfig) -> Optional[IENLoss]:
    """The IEN term of ``config`` on the fields ``net`` declares (``config.ien_layers``: a subset), or
    ``None`` for a network that declares none or is steerable (equivariant by construction)."""
    if isinstance(net, GroupPooledCNN) or not callable(getattr(net, "fields", None)):
        return None
    return IENLoss.declared(net, group_from_name(config.group), config.beta, config.ien_layers)


def ramped_beta(config: ClsConfig, step: int, total_steps: int) -> float:
    """``config.beta``, reached linearly over the first ``beta_ramp`` share of the steps."""
    ramp = config.beta_ramp * total_steps
    return config.beta * min(1.0, step / ramp) if ramp > 0 else config.beta


def step_generator(config: ClsConfig, step: int, rank: int) -> torch.Generator:
    """The generator of the rotations of ``step`` on process ``rank``."""
    return torch.Generator().manual_seed((config.seed * 1_000_003 + step) * 101 + rank)


class ClassifierActor:
    """``loss(model, (x, y), state)`` for classifier ``net`` (``model``: it or its DDP wrapper) under
    ``config``; ``total_steps`` spans the beta ramp; ``rank`` seeds this process's rotations."""

    def __init__(self, net, config: ClsConfig, ien: Optional[IENLoss], total_steps: int, device, rank: int = 0):
        self.net, self.config, self.ien, self.total_steps = net, config, ien, total_steps
        self.device, self.rank = device, rank

    def loss(self, model, batch, state: dict):
        x, y = (v.to(self.device, non_blocking=True) for v in batch)
        if self.config.train_rotation:
            x = random_rotate(x, step_generator(self.config, state["step"], self.rank), self.config.rotation_padding)
        if self.ien is None:
            return F.cross_entropy(model(x), y), {"equiv": math.nan}
        self.ien.beta = ramped_beta(self.config, state["step"], self.total_steps)
        total, _, equiv = ien_step(model, self.ien, (x,), lambda outputs: F.cross_entropy(outputs, torch.cat([y, y])))
        return total, {"equiv": float(equiv.detach())}
