"""The learning-rate schedule of the IEN experiments: one cosine cycle per training run.

The IEN code (Khandelwal et al. 2021) warms Adam up from ``low_lr`` to ``max_lr`` over the first quarter of
the steps with a cosine, then anneals back to ``low_lr`` with a cosine (``max_lr = 5e-3``,
``low_lr = 1e-5``, weight decay 1e-7, batch 64). That is :class:`torch.optim.lr_scheduler.OneCycleLR` with
``pct_start = 0.25``, ``anneal_strategy = 'cos'``, ``div_factor = max_lr / low_lr = 500``,
``final_div_factor = 1`` (the run ends at ``low_lr``) and no momentum cycling (the IEN code keeps Adam's betas).
"""
import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class OneCycle:
    """Settings of :func:`one_cycle` (the IEN defaults)."""

    max_lr: float = 5e-3
    pct_start: float = 0.25
    div_factor: float = 500.0
    final_div_factor: float = 1.0


def one_cycle(optimizer: torch.optim.Optimizer, total_steps: int, settings: OneCycle = OneCycle()):
    """A :class:`OneCycleLR` over ``total_steps`` optimiser steps (call ``step()`` after each).

    OneCycleLR needs more than ``1 / pct_start`` steps (its warm-up must span a step); a shorter run
    (a smoke test) gets a schedule of that minimum length and simply stops before its end.
    """
    if total_steps < 1:
        raise ValueError(f"a one-cycle schedule needs at least one step, got {total_steps}")
    if not 0 < settings.pct_start < 1:
        raise ValueError(f"pct_start must lie in (0, 1), got {settings.pct_start}")
    length = max(total_steps, math.floor(1 / settings.pct_start) + 1)
    return torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=settings.max_lr, total_steps=length, pct_start=settings.pct_start,
        anneal_strategy="cos", div_factor=settings.div_factor, final_div_factor=settings.final_div_factor,
        cycle_momentum=False)
