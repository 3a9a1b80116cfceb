"""The implicit-equivariance (IEN) term in Siamese tracker training (``ien_siamfc``).

A tracker config turns it on in its ``train:`` section::

    ien: {beta: 1.0, group: C4, layers: {features.2: 4, features.6: 4}}

``layers`` maps backbone module names to the :class:`~ientrack.equivariance.FieldSpec` of their outputs:
an int ``k`` means fields of ``k`` channels over the whole layer, a list ``[[k, n], ...]`` spells the spec.
Each step draws one group element ``g_i`` per pair and forwards the pairs ``(z, x)`` and ``(g z, g x)`` in
one batch: the SiamFC loss sees both halves with the same labels (a centred label map is C4-symmetric,
and both crops turn about the target), and :class:`~ientrack.equivariance.IENLoss` compares the tapped
layers' pooled maps of ``x`` and ``g^-1`` of those of ``g x`` (the backbone's last call of the step is
the search batch). ``beta = 0`` (or no ``ien`` section) trains plain SiamFC: no term, no doubled batch.
The crop sizes must be exact for the backbone (127 / 255 for AlexNet) so that the maps line up.
"""
from typing import Optional

import torch
import torch.nn as nn

from ientrack.equivariance._hooks import eval_mode, record_layers
from ientrack.equivariance.groups import group_from_name, transform_batch
from ientrack.equivariance.ien_loss import IENLoss
from ientrack.equivariance.pooling import FieldSpec
from ientrack.precision import autocast

IEN_KEYS = {"beta", "group", "layers"}


def layer_specs(backbone: nn.Module, layers: dict, probe_size: int) -> dict:
    """``{name: FieldSpec}`` from the config's ``layers``; int entries take the channel count of the
    layer's output in a dry forward pass of a ``probe_size`` crop."""
    if not isinstance(layers, dict) or not layers:
        raise ValueError(f"train.ien.layers must map backbone layer names to field orders, got {layers!r}")
    names = {name for name, _ in backbone.named_modules()}
    missing = sorted(set(layers) - names)
    if missing:
        raise KeyError(f"train.ien.layers {missing} are not layers of {type(backbone).__name__}; "
                       f"some of its layers: {sorted(n for n in names if n)[:20]}")
    with eval_mode(backbone), record_layers(backbone, lambda name, m: name in layers) as records:
        backbone(torch.zeros(1, 3, probe_size, probe_size, device=next(backbone.parameters()).device))
    channels = {label: output.shape[1] for label, _, _, output in records}
    return {name: FieldSpec.homogeneous(channels[name], spec) if isinstance(spec, int) else FieldSpec(spec)
            for name, spec in layers.items()}


def build_ien(backbone: nn.Module, section: Optional[dict], probe_size: int) -> Optional[IENLoss]:
    """The :class:`IENLoss` on ``backbone`` that a ``train.ien`` section asks for, or ``None`` when there is
    no section or its ``beta`` is 0 (then nothing is hooked and nothing computed)."""
    if not section:
        return None
    unknown = sorted(set(section) - IEN_KEYS)
    if unknown:
        raise ValueError(f"train.ien: unknown keys {unknown}; known: {sorted(IEN_KEYS)}")
    beta = float(section.get("beta", 1.0))
    if beta == 0:
        return None
    specs = layer_specs(backbone, section.get("layers"), probe_size)
    return IENLoss(backbone, specs, group_from_name(str(section.get("group", "C4"))), beta)


def ien_forward_backward(model, ien: IENLoss, loss_fn, z: torch.Tensor, x: torch.Tensor, scaler,
                         amp: Optional[torch.dtype] = None, generator: Optional[torch.Generator] = None):
    """``(total, task, equiv)`` of one batch of uint8 pairs, gradients of ``total`` (scaled) accumulated
    into ``model``; ``total = task + ien.beta * equiv`` (see the module docstring)."""
    elements = ien.group.sample(z.shape[0], generator)
    z, x = z.float(), x.float()
    z2 = torch.cat([z, transform_batch(z, elements)])
    x2 = torch.cat([x, transform_batch(x, elements)])
    with autocast(z.device, amp):
        task = loss_fn(model(z2, x2))
        equiv = ien.loss(elements)
    total = task + ien.beta * equiv.float()
    scaler.scale(total).backward()
    return total.detach(), task.detach(), equiv.detach()


def ien_train_step(model, ien: IENLoss, loss_fn, optimizer, scaler, z, x, amp=None, generator=None) -> torch.Tensor:
    """One SGD step with the IEN term; returns the batch's total loss (before the step)."""
    total, _, _ = ien_forward_backward(model, ien, loss_fn, z, x, scaler, amp, generator)
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad(set_to_none=True)
    return total
