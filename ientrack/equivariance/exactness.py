"""Which input sizes keep a network exactly equivariant to 90-degree rotations.

A strided layer with input size ``n``, kernel ``k``, dilation ``d``, symmetric padding ``p`` and stride
``s`` samples its input symmetrically (its first and last windows sit at the same distance from the two
borders) exactly when ``(n + 2p - d(k - 1) - 1) % s == 0``; then rotating the input by 90 degrees rotates
the output. One pixel off, the sampling grid shifts against the rotated input and the network is only
approximately equivariant, with the same output shape ("Using and Abusing Equivariance", Edixhoven et
al.). Asymmetric padding (``padding='same'`` with an even kernel) breaks it at any stride.

The spatial size at each layer comes from a real forward pass with hooks on a zeros input, so branches
(ResNet downsampling paths) and any architecture are handled.
"""
from dataclasses import dataclass

import torch
import torch.nn as nn

from ._hooks import eval_mode, record_layers

_TORCH_SPATIAL = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)
_E2CNN_SPATIAL = {"R2Conv", "PointwiseMaxPool", "PointwiseMaxPoolAntialiased", "PointwiseAvgPool",
                  "PointwiseAvgPoolAntialiased", "NormMaxPool"}


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def is_spatial_layer(module: nn.Module) -> bool:
    """Conv and pool layers (torch and e2cnn) whose sampling grid the exactness rule checks."""
    return isinstance(module, _TORCH_SPATIAL) or type(module).__name__ in _E2CNN_SPATIAL


@dataclass(frozen=True)
class LayerRow:
    """One spatial layer at one call: sizes and settings per dimension ``(h, w)``."""

    name: str
    type: str
    in_size: tuple
    kernel: tuple
    stride: tuple
    pad: tuple
    remainder: tuple
    ok: bool


@dataclass(frozen=True)
class ExactnessReport:
    """``exact`` when every layer's ``ok``; ``first_break`` names the first layer (in call order) that is not."""

    exact: bool
    first_break: str | None
    layers: list


def _row(name: str, module: nn.Module, in_size: tuple) -> LayerRow:
    kernel = _pair(module.kernel_size)
    stride = _pair(module.stride)
    dilation = _pair(getattr(module, "dilation", 1))
    padding = module.padding
    if isinstance(padding, str):  # Conv2d 'valid' or 'same' (stride 1): PyTorch puts the odd pixel right
        total = [0 if padding == "valid" else d * (k - 1) for k, d in zip(kernel, dilation)]
        symmetric = all(t % 2 == 0 for t in total)
        pad = tuple(t / 2 for t in total)
    else:
        pad, symmetric = _pair(padding), True
    remainder = tuple(int(n + 2 * p - d * (k - 1) - 1) % s
                      for n, p, d, k, s in zip(in_size, pad, dilation, kernel, stride))
    ok = symmetric and not any(remainder)
    return LayerRow(name, type(module).__name__, tuple(in_size), kernel, stride, pad, remainder, ok)


def infer_in_channels(model: nn.Module) -> int:
    """Input channels of the first conv (torch or e2cnn) in ``model``."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            return module.in_channels
        if type(module).__name__ == "R2Conv":
            return module.in_type.size
    raise ValueError(f"cannot infer the input channels of {type(model).__name__}; pass in_channels")


def tensor_options(model: nn.Module) -> dict:
    """The ``device`` and ``dtype`` of ``model``'s parameters (CPU float32 for a model without any), for
    the probe tensors fed to it."""
    param = next(model.parameters(), None)
    return {"device": param.device, "dtype": param.dtype} if param is not None else {}


def exactness_report(model: nn.Module, size, in_channels: int | None = None) -> ExactnessReport:
    """Check every conv / pool layer of ``model`` for an input of ``size`` (int or ``(h, w)``); a size too
    small for the network to run is a ValueError."""
    height, width = _pair(size)
    channels = in_channels or infer_in_channels(model)
    zeros = torch.zeros(1, channels, height, width, **tensor_options(model))
    with eval_mode(model), record_layers(model, lambda name, m: is_spatial_layer(m)) as records:
        try:
            model(zeros)
        except RuntimeError as error:
            if "too small" in str(error) or "can't be greater than actual input size" in str(error):
                raise ValueError(f"input size {size} is too small for this network ({error})") from None
            raise
    rows = [_row(label, module, tuple(data.shape[-2:])) for label, module, data, _ in records]
    first_break = next((row.name for row in rows if not row.ok), None)
    return ExactnessReport(first_break is None, first_break, rows)


def exact_sizes(model: nn.Module, sizes, in_channels: int | None = None) -> list[int]:
    """The square input sizes in ``sizes`` at which ``model`` is exact. Sizes too small to run are left out."""
    exact = []
    for size in sizes:
        try:
            report = exactness_report(model, size, in_channels)
        except ValueError:  # too small to run
            continue
        if report.exact:
            exact.append(size)
    return exact
