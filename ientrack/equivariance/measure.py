"""Equivariance error per layer: how far each feature map is from rotating with the input.

For a layer ``l`` with pooling ``P`` (its :class:`FieldSpec`, or the identity: every channel a scalar
field) and a group element ``g``, the error is the relative L2 distance

    || P(phi_l(g x)) - g P(phi_l(x)) || / || g P(phi_l(x)) ||

averaged over the group's non-identity elements. Exact groups (multiples of 90 degrees) compare
whole maps; others compare inside the disk inscribed in each map (see :func:`disk_mask`).
"""
import torch
import torch.nn as nn

from ._hooks import eval_mode, record_layers
from .exactness import is_spatial_layer
from .groups import PlanarGroup, cyclic, transform
from .ien_loss import disk_mask
from .pooling import FieldSpec


def _layer_outputs(model, x, layers):
    wanted = set(layers) if layers is not None else None
    select = (lambda name, m: name in wanted) if wanted is not None else (lambda name, m: is_spatial_layer(m))
    with record_layers(model, select) as records:
        model(x)
    outputs = {label: output for label, _, _, output in records}
    if wanted is not None and wanted - set(outputs):
        raise KeyError(f"layers {sorted(wanted - set(outputs))} did not run in {type(model).__name__}'s forward")
    return outputs


def equivariance_errors(model: nn.Module, x: torch.Tensor, group: PlanarGroup | None = None,
                        specs: dict[str, FieldSpec] | None = None, layers: list[str] | None = None):
    """``[(layer, error)]`` in call order for ``x`` (B, C, H, W), in eval mode; ``group`` defaults to C4.

    ``layers`` names the modules to tap (default: every conv / pool layer); ``specs`` gives the field
    spec of any of them (default: no pooling).
    """
    group = group or cyclic(4)
    specs = specs or {}
    others = [g for g in group.elements if g != group.identity]
    if not others:
        raise ValueError(f"{group.name} has no non-identity element to measure with")
    with eval_mode(model):
        base = _layer_outputs(model, x, layers)
        moved = [_layer_outputs(model, transform(x, g), layers) for g in others]
    errors = []
    for name, plain in base.items():
        if plain.dim() != 4:
            raise ValueError(f"layer {name!r} gives {tuple(plain.shape)}, not a (B, C, H, W) feature map")
        pool = specs.get(name, lambda t: t)
        errs = []
        for g, outputs in zip(others, moved):
            expected = transform(pool(plain), g, padding_mode="zeros")
            got = pool(outputs[name])
            if got.shape != expected.shape:
                raise ValueError(f"layer {name!r}: the rotated input gives maps of {tuple(got.shape)}, "
                                 f"rotating the maps gives {tuple(expected.shape)} (use a square input)")
            if not group.exact:
                mask = disk_mask(*got.shape[-2:], device=got.device)
                expected, got = expected * mask, got * mask
            errs.append((torch.linalg.vector_norm(got - expected) /
                         torch.linalg.vector_norm(expected).clamp_min(1e-12)).item())
        errors.append((name, sum(errs) / len(errs)))
    return errors
