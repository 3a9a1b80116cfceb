"""The tracker's actor: a batch of pairs to SiamFC's balanced loss, plus the IEN term where asked.

A tracker config turns the term on in its ``train:`` section, ``ien: {beta: 0.1, group: C4}``; the
backbone declares where it looks (``fields(group)``, e.g. :class:`ientrack.models.alexnet.AlexNetV1`'s
five conv blocks, as regular fields of the group). Each step draws one group element ``g_i`` per pair and
forwards the pairs ``(z, x)`` and ``(g z, g x)`` in one batch: the SiamFC loss sees both halves with the
same labels (a centred label map is C4-symmetric, and both crops turn about the target), and the term
compares the tapped layers' pooled maps of ``x`` and ``g^-1`` of those of ``g x`` on the SEARCH branch:
the backbone's call on ``x``, which :attr:`SiameseNet.BRANCHES` places second. ``beta = 0`` (or no
``ien`` section) trains plain SiamFC: no term, no doubled batch. The crop sizes must be exact for the
backbone (127 / 255 for AlexNet) so that the maps line up.
"""
from typing import Optional

import torch
import torch.nn as nn

from ientrack.equivariance import IENLoss, group_from_name, ien_step
from ientrack.models.siamese import SiameseNet

IEN_KEYS = ("beta", "group")
SEARCH_CALL = SiameseNet.BRANCHES.index("search")


def build_ien(backbone: nn.Module, section: Optional[dict]) -> Optional[IENLoss]:
    """The :class:`IENLoss` on the fields ``backbone`` declares that a ``train.ien`` section asks for, or
    ``None`` when there is no section or its ``beta`` is 0 (then nothing is hooked and nothing computed)."""
    if not section:
        return None
    if sorted(section) != sorted(IEN_KEYS):
        raise ValueError(f"train.ien takes {', '.join(IEN_KEYS)} (the backbone declares its layers), got "
                         f"{sorted(section)}")
    if float(section["beta"]) == 0:
        return None
    return IENLoss.declared(backbone, group_from_name(str(section["group"])), float(section["beta"]))


class TrackerActor:
    """``loss(model, (z, x, ...), state)``: SiamFC's loss ``loss_fn`` of the responses of ``model`` (the
    :class:`SiameseNet` ``net``, or its DDP wrapper) to a batch of uint8 pairs, with ``ien``'s term."""

    def __init__(self, net: SiameseNet, loss_fn: nn.Module, ien: Optional[IENLoss], device: torch.device):
        self.net, self.loss_fn, self.ien, self.device = net, loss_fn, ien, device

    def loss(self, model, batch, state: dict):
        z, x = (v.to(self.device, non_blocking=True).float() for v in batch[:2])
        if self.ien is None:
            return self.loss_fn(model(z, x)), {}
        total, task, equiv = ien_step(model, self.ien, (z, x), self.loss_fn, call=SEARCH_CALL)
        return total, {"task": float(task.detach()), "equiv": float(equiv.detach())}
