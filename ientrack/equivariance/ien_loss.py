"""The implicit-equivariance (IEN) loss, on the layers a network declares.

Where the loss looks is the network's to say, one way for every network: a method

    fields(group: PlanarGroup) -> dict[str, FieldSpec]

maps the names of its tapped modules (as in ``named_modules()``) to the :class:`FieldSpec` of their
outputs when the network is to be equivariant under ``group`` (a plain CNN: regular fields of the group
on every tapped layer; a classifier built for one group: the fields it was built with). A config only
turns the term on and chooses beta and the group (:meth:`IENLoss.declared`).

For a batch ``x`` and one random group element ``g_i`` per sample, the model sees ``cat([x, g x])`` in one
forward pass. Forward hooks keep the outputs ``phi_l`` of the tapped layers, call by call, and the loss is

    L_equiv = mean over tapped layers l of  MSE( P_l(phi_l(x)),  g^-1 P_l(phi_l(g x)) )

where ``P_l`` is the channel-group max pooling of the layer's :class:`FieldSpec`. A module that runs more
than once in the forward pass (a Siamese backbone: exemplar, then search) is compared on the call the
caller names (``call``). Groups whose elements are all multiples of 90 degrees compare whole maps
exactly; other angles rotate ``phi_l(g x)`` back by bilinear interpolation and compare only inside the
disk inscribed in the map (outside it the rotated map holds padding; a 2 x 2 map has no pixel centre
inside that disk and is left out). The maps of ``x`` and ``g x`` only line up when the network's strides
tile its input exactly (see :mod:`ientrack.equivariance.exactness`): train at an exact input size.
"""
from typing import Callable, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .groups import GroupElement, PlanarGroup, transform_batch
from .pooling import FieldSpec


def disk_mask(height: int, width: int, device=None) -> torch.Tensor:
    """(H, W) float mask of the disk of radius ``(min(H, W) - 1) / 2`` about the map's centre."""
    ys = torch.arange(height, device=device, dtype=torch.float32) - (height - 1) / 2
    xs = torch.arange(width, device=device, dtype=torch.float32) - (width - 1) / 2
    radius = (min(height, width) - 1) / 2
    return ((ys[:, None] ** 2 + xs[None, :] ** 2) <= radius ** 2 + 1e-6).float()


def declared_fields(model: nn.Module, group: PlanarGroup, names: Optional[Sequence[str]] = None) -> dict:
    """``model.fields(group)``, restricted to ``names`` (``None``: all); an error names what is missing."""
    if not callable(getattr(model, "fields", None)):
        raise ValueError(f"{type(model).__name__} declares no fields (a fields(group) method) for the IEN term")
    fields = model.fields(group)
    if names is None:
        return fields
    unknown = [name for name in names if name not in fields]
    if unknown or not names:
        raise ValueError(f"IEN layers {list(names)}: {'unknown ' + str(unknown) if unknown else 'none named'}; "
                         f"{type(model).__name__} declares {list(fields)}")
    return {name: fields[name] for name in names}


class IENLoss:
    """Equivariance loss on named layers of ``model``; use as a context manager or call :meth:`remove`.

    ``layers`` maps module names (as in ``model.named_modules()``) to the :class:`FieldSpec` of their
    output channels (usually :meth:`declared`). ``beta`` weighs the term in :func:`ien_step` (``beta = 0``:
    the baseline with the same augmentation). ``calls[name]`` holds the layer's outputs of the current
    step, one per call of the module.
    """

    def __init__(self, model: nn.Module, layers: dict[str, FieldSpec], group: PlanarGroup, beta: float = 1.0):
        if not layers:
            raise ValueError("IENLoss needs at least one layer name to tap")
        modules = dict(model.named_modules())
        missing = [name for name in layers if name not in modules]
        if missing:
            raise KeyError(f"layers {missing} not found in {type(model).__name__}; "
                           f"some of its layers: {[n for n in modules if n][:20]}")
        self.layers = dict(layers)
        self.group = group
        self.beta = beta
        self.calls: dict[str, list[torch.Tensor]] = {}
        self._handles = [modules[name].register_forward_hook(self._keeper(name)) for name in layers]

    @classmethod
    def declared(cls, model: nn.Module, group: PlanarGroup, beta: float = 1.0,
                 names: Optional[Sequence[str]] = None) -> "IENLoss":
        """The loss on the layers ``model.fields(group)`` declares (``names``: a subset of them)."""
        return cls(model, declared_fields(model, group, names), group, beta)

    def _keeper(self, name):
        def hook(module, inputs, output):
            if not isinstance(output, torch.Tensor) or output.dim() != 4:
                raise TypeError(f"IENLoss taps layer {name!r}, whose output is not a (B, C, H, W) tensor")
            self.calls.setdefault(name, []).append(output)
        return hook

    def sample(self, count: int, generator: Optional[torch.Generator] = None) -> list[GroupElement]:
        """``count`` random group elements, one per sample; a new step begins (kept outputs are dropped)."""
        self.calls = {}
        return self.group.sample(count, generator)

    def augment(self, x: torch.Tensor, generator: Optional[torch.Generator] = None):
        """``(cat([x, g x]), elements)`` with one random element ``g_i`` of the group per sample."""
        elements = self.sample(x.shape[0], generator)
        return double(x, elements), elements

    def loss(self, elements: list[GroupElement], call: int = 0) -> torch.Tensor:
        """The equivariance term of the step's forward pass, which must have been on ``cat([x, g x])``,
        on the ``call``-th run of each tapped module (0: the first)."""
        inverses = [self.group.inverse(g) for g in elements]
        terms = []
        for name, spec in self.layers.items():
            runs = self.calls.get(name, [])
            if len(runs) <= call:
                raise RuntimeError(f"layer {name!r} ran {len(runs)} time(s) in the step, not the call {call} asked for")
            feats = runs[call]
            if feats.shape[0] != 2 * len(elements):
                raise ValueError(f"layer {name!r} saw a batch of {feats.shape[0]}, expected 2 x {len(elements)} "
                                 "(the forward pass must be on cat([x, g x]))")
            plain, moved = spec.pool(feats).chunk(2)
            back = transform_batch(moved, inverses, padding_mode="zeros")
            if self.group.exact:
                terms.append(F.mse_loss(back, plain))
                continue
            mask = disk_mask(*plain.shape[-2:], device=plain.device)
            if mask.sum() == 0:  # an even map of 2 x 2: no pixel centre lies inside its disk
                continue
            terms.append(((back - plain) ** 2 * mask).sum() / (mask.sum() * plain.shape[0] * plain.shape[1]))
        if not terms:
            raise ValueError(f"IENLoss: every tapped map is too small (2 x 2) to compare under {self.group.name}'s "
                             "interpolated rotations; tap larger layers")
        return torch.stack(terms).mean()

    def remove(self):
        """Detach all hooks and forget kept outputs."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self.calls = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def double(x: torch.Tensor, elements: list[GroupElement]) -> torch.Tensor:
    """``cat([x, g x])``: the batch and its copy with sample ``i`` moved by ``elements[i]``."""
    return torch.cat([x, transform_batch(x, elements)])


def ien_step(model: nn.Module, ien: IENLoss, inputs: Sequence[torch.Tensor], task_loss: Callable,
             call: int = 0, generator: Optional[torch.Generator] = None):
    """One IEN training forward: ``(total, task, equiv)`` with ``total = task + ien.beta * equiv``.

    Every batch of ``inputs`` (the model's positional inputs: ``(x,)``, or a Siamese net's ``(z, x)``) is
    doubled to ``cat([v, g v])`` with the same elements and forwarded once; ``task_loss(outputs)`` is the
    task's loss on both halves (a classifier: the labels repeated); the term compares the tapped layers'
    ``call``-th run. The caller runs ``total.backward()`` and the optimiser.
    """
    elements = ien.sample(inputs[0].shape[0], generator)
    outputs = model(*(double(v, elements) for v in inputs))
    task = task_loss(outputs)
    equiv = ien.loss(elements, call)
    return task + ien.beta * equiv.float(), task, equiv
