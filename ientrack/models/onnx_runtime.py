"""ONNX Runtime as the CPU inference backend of a torch module: the optional ``[onnx]`` extra
(``pip install -e ".[onnx]"`` brings ``onnxruntime`` and ``onnx``, the latter for the export).

:class:`OnnxRuntimeModule` stands in for an ``nn.Module`` at inference: called with a float CPU tensor
``N x C x H x W`` it runs the module's ONNX export in ONNX Runtime and returns a tensor. The module is
exported from its current weights when the wrapper is built (no file to go stale; an export is
remembered for the rest of the process by a digest of the module), once per input size and memory layout (channels-last input is passed as it lies, NHWC, without a copy), with a dynamic batch.
On a CPU this runs the depthwise convolutions of EfficientNet-Lite several times faster than torch does;
results agree with torch's to float rounding (``tests/test_onnx_runtime.py``).

``backend`` settings (trackers, ``--backend`` of ``tools/test.py`` / ``tools/benchmark.py``): ``torch``,
``onnx``, or ``auto``: ONNX Runtime where it is installed and the device is the CPU, else torch.
"""
import hashlib
import importlib.util
import io
import warnings

import numpy as np
import torch
import torch.nn as nn

BACKENDS = ("auto", "torch", "onnx")
INSTALL_HINT = 'pip install -e ".[onnx]" (onnxruntime and onnx)'


def onnx_runtime_available() -> bool:
    """Whether ``onnxruntime`` and ``onnx`` (to export) can be imported."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx"))


def resolve_backend(backend: str, device: torch.device) -> str:
    """``torch`` or ``onnx`` for a ``backend`` setting on ``device`` (see the module docstring)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "auto":
        return "onnx" if device.type == "cpu" and onnx_runtime_available() else "torch"
    if backend == "onnx" and device.type != "cpu":
        raise ValueError(f"backend onnx runs on the CPU (the onnxruntime package); device is {device}")
    if backend == "onnx" and not onnx_runtime_available():
        raise ImportError(f"backend onnx needs ONNX Runtime: {INSTALL_HINT}")
    return backend


def with_backend(module: nn.Module, backend: str, device: torch.device, input_shapes=(),
                 channels_last: bool = False) -> nn.Module:
    """``module`` itself for the torch backend, else an :class:`OnnxRuntimeModule` of it, exported now for
    each ``(C, H, W)`` of ``input_shapes`` in the layout the caller passes (other inputs: when first seen)."""
    if resolve_backend(backend, device) == "torch":
        return module
    wrapped = OnnxRuntimeModule(module)
    for shape in input_shapes:
        wrapped.session(tuple(shape), channels_last)
    return wrapped


def torch_module(module: nn.Module) -> nn.Module:
    """The torch module behind ``module`` (itself unless it is an :class:`OnnxRuntimeModule`)."""
    return module.module if isinstance(module, OnnxRuntimeModule) else module


class _ChannelsLastInput(nn.Module):
    """``module`` taking its input as ``N x H x W x C`` (the memory order of a channels-last tensor)."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def forward(self, x):
        return self.module(x.permute(0, 3, 1, 2))


def fingerprint(module: nn.Module) -> str:
    """A digest of what ``module`` computes in eval mode (the mode it is exported in): its layers
    (``repr``), every submodule's plain settings (numbers, strings, flags: e.g. a border to cut) and every
    tensor of its state."""
    digest = hashlib.sha256(repr(module).encode())
    for name, sub in module.named_modules():
        settings = {k: v for k, v in vars(sub).items()
                    if not k.startswith("_") and k != "training" and isinstance(v, (int, float, str, bool, tuple))}
        digest.update(f"{name}:{type(sub).__qualname__}:{sorted(settings.items())}".encode())
    for name, tensor in module.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


_EXPORTS = {}  # (fingerprint, shape, layout) -> ONNX bytes: trackers built again in one process export once


def export_onnx(module: nn.Module, shape, channels_last: bool = False) -> bytes:
    """:func:`export_graph`, remembered for this process by the module's :func:`fingerprint`."""
    key = (fingerprint(module), tuple(shape), channels_last)
    if key not in _EXPORTS:
        _EXPORTS[key] = export_graph(module, shape, channels_last)
    return _EXPORTS[key]


def export_graph(module: nn.Module, shape, channels_last: bool = False) -> bytes:
    """The ONNX graph (bytes) of ``module`` in eval mode for float input of ``shape`` ``(C, H, W)`` and any
    batch; input ``x`` (``N x H x W x C`` when ``channels_last``), output ``y``."""
    c, h, w = shape
    graph = _ChannelsLastInput(module) if channels_last else module
    example = torch.zeros((1, h, w, c) if channels_last else (1, c, h, w))
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes read in Python: fixed per export, as intended
        torch.onnx.export(graph.eval(), (example,), buffer, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, opset_version=17, dynamo=False)
    return buffer.getvalue()


def runtime_session(graph: bytes, threads: int):
    """An ONNX Runtime CPU session of ``graph`` on ``threads`` threads that sleep between calls (no spinning:
    the tracker's torch steps run in between on the same cores)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])


class OnnxRuntimeModule(nn.Module):
    """``module`` run by ONNX Runtime on the CPU (float32); ``module`` stays reachable as ``.module`` (its
    attributes, its FLOP count) but its weights are those of the export: change them, build a new one."""

    def __init__(self, module: nn.Module, threads: int | None = None):
        super().__init__()
        self.module = module.eval()
        self.threads = threads or torch.get_num_threads()
        self._sessions = {}

    def session(self, shape, channels_last: bool):
        """The session for inputs of ``shape`` ``(C, H, W)`` in that layout (exported on first use)."""
        key = (tuple(shape), channels_last)
        if key not in self._sessions:
            self._sessions[key] = runtime_session(export_onnx(self.module, shape, channels_last), self.threads)
        return self._sessions[key]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cpu" or x.dtype != torch.float32 or x.dim() != 4:
            raise ValueError(f"OnnxRuntimeModule takes float32 CPU tensors N x C x H x W, got {x.dtype} "
                             f"{tuple(x.shape)} on {x.device}")
        channels_last = not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last)
        array = x.detach().permute(0, 2, 3, 1).numpy() if channels_last else np.ascontiguousarray(x.detach().numpy())
        (y,) = self.session(tuple(x.shape[1:]), channels_last).run(None, {"x": array})
        return torch.from_numpy(y)
