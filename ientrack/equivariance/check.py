"""One table per model and input size: exact subsampling and measured equivariance error, layer by layer."""
import torch
import torch.nn as nn

from .exactness import exactness_report, infer_in_channels, tensor_options
from .groups import PlanarGroup, cyclic
from .measure import equivariance_errors
from .steerable import GroupPooledCNN


def _fmt(pair):
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}x{pair[1]}"


def check_table(model: nn.Module, size: int, group: PlanarGroup | None = None, x: torch.Tensor | None = None,
                in_channels: int | None = None) -> str:
    """The table (layer, type, in size, stride, remainder, exact?, equivariance error) and a verdict line.

    ``x`` defaults to one seeded uniform-noise image; steerable nets (:class:`GroupPooledCNN`, equivariant by
    construction) are measured after group pooling of their declared ``fields``. The last line is ``exact: ...``
    (subsampling commutes with the group; the measured errors say how equivariant the weights are) or
    ``not exact: first break at <layer>``.
    """
    group = group or cyclic(4)
    report = exactness_report(model, size, in_channels)
    if x is None:
        channels = in_channels or infer_in_channels(model)
        x = torch.rand(1, channels, size, size, generator=torch.Generator().manual_seed(0)).to(**tensor_options(model))
    specs = model.fields(model.group) if isinstance(model, GroupPooledCNN) else None
    errors = dict(equivariance_errors(model, x, group, specs=specs))
    header = f"{'layer':<28} {'type':<18} {'in size':>8} {'stride':>6} {'remainder':>9} {'exact?':>6} {group.name + ' error':>12}"
    lines = [header, "-" * len(header)]
    for row in report.layers:
        error = errors.get(row.name)
        lines.append(f"{row.name:<28} {row.type:<18} {_fmt(row.in_size):>8} {_fmt(row.stride):>6} "
                     f"{_fmt(row.remainder):>9} {'yes' if row.ok else 'NO':>6} "
                     f"{'-' if error is None else f'{error:.2e}':>12}")
    lines.append("exact: every strided layer tiles its input (the error column is the weights' own equivariance)"
                 if report.exact else f"not exact: first break at {report.first_break}")
    return "\n".join(lines)

