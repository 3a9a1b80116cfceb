"""The implicit-equivariance (IEN) loss, attached to any ``nn.Module`` by layer names.

For a batch ``x`` and one random group element ``g_i`` per sample, the model sees ``cat([x, g x])`` in one
forward pass. Forward hooks keep the outputs ``phi_l`` of the tapped layers, and the loss is

    L_equiv = mean over tapped layers l of  MSE( P_l(phi_l(x)),  g^-1 P_l(phi_l(g x)) )

where ``P_l`` is the channel-group max pooling of the layer's :class:`FieldSpec`. Groups whose elements
are all multiples of 90 degrees compare whole maps exactly; other angles rotate ``phi_l(g x)`` back by
bilinear interpolation and compare only inside the disk inscribed in the map (outside it the rotated map
holds padding; a 2 x 2 map has no pixel centre inside that disk and is left out). The maps of ``x`` and ``g x`` only line up when the network's strides tile its input
exactly (see :mod:`ientrack.equivariance.exactness`): train at an exact input size.
"""
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


class IENLoss:
    """Equivariance loss on named layers of ``model``; use as a context manager or call :meth:`remove`.

    ``layers`` maps module names (as in ``model.named_modules()``) to the :class:`FieldSpec` of their
    output channels. ``beta`` weighs the term in :func:`ien_step` (``beta = 0``: the baseline with the
    same augmentation).
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
        self.features: dict[str, torch.Tensor] = {}
        self._handles = [modules[name].register_forward_hook(self._keeper(name)) for name in layers]

    def _keeper(self, name):
        def hook(module, inputs, output):
            if not isinstance(output, torch.Tensor) or output.dim() != 4:
                raise TypeError(f"IENLoss taps layer {name!r}, whose output is not a (B, C, H, W) tensor")
            self.features[name] = output
        return hook

    def augment(self, x: torch.Tensor, generator: torch.Generator | None = None):
        """``(cat([x, g x]), elements)`` with one random element ``g_i`` of the group per sample."""
        elements = self.group.sample(x.shape[0], generator)
        return torch.cat([x, transform_batch(x, elements)]), elements

    def loss(self, elements: list[GroupElement]) -> torch.Tensor:
        """The equivariance term for the last forward pass, which must have been on ``cat([x, g x])``."""
        inverses = [self.group.inverse(g) for g in elements]
        terms = []
        for name, spec in self.layers.items():
            if name not in self.features:
                raise RuntimeError(f"layer {name!r} did not run in the last forward pass")
            feats = self.features[name]
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
        """Detach all hooks and forget kept features."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self.features = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def ien_step(model: nn.Module, ien: IENLoss, x: torch.Tensor, y, task_loss_fn):
    """One IEN training forward: ``(total, task, equiv)`` with ``total = task + ien.beta * equiv``.

    Forwards ``cat([x, g x])`` once; the task loss sees both halves with ``y`` repeated
    (``task_loss_fn(outputs, cat([y, y]))``). The caller runs ``total.backward()`` and the optimiser.
    """
    batch, elements = ien.augment(x)
    outputs = model(batch)
    task = task_loss_fn(outputs, torch.cat([y, y]))
    equiv = ien.loss(elements)
    return task + ien.beta * equiv, task, equiv
