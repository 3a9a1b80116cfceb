"""Training pairs for a box head (:mod:`ientrack.models.box_head`): the target off the search crop's centre,
at another size than the tracker expects, and its box in the search crop.

A tracker's search crop is centred on where it last saw the target, at the size it believes; the box head
must read where the target is and how large. So each pair's search window is moved by up to ``shift``
output pixels and scaled by up to ``exp(+-scale_jitter)`` from the target's own window, and the item
carries the target's true box in that crop's pixels and the template's box size in the exemplar crop's. The
exemplar crop is SiamFC's, as in :class:`~ientrack.data.pairs.TrainingPairs` but never stretched (its box
size is then exact), whose sources (sequences, still images, mixtures) serve here.
"""
import dataclasses

import numpy as np
import torch

from ientrack.crop import crop
from ientrack.data.pairs import TrainingPairs, _chw
from ientrack.geometry import exemplar_side


class BoxPairs(TrainingPairs):
    """Items ``(z, x, target)``: ``uint8`` crops as :class:`TrainingPairs`' (upright) and ``target`` (float32)
    the target's box ``(x1, y1, x2, y2)`` in ``x``'s 0-based pixel coordinates (the crop's middle is
    ``(n - 1) / 2``, where :func:`ientrack.crop.crop` puts the window's centre), then the template's box
    ``(w, h)`` in ``z``'s pixels."""

    def __init__(self, sources, exemplar_size: int = 129, instance_size: int = 257, context: float = 0.5,
                 seed: int = 0, shift: float = 32.0, scale_jitter: float = 0.3):
        super().__init__(sources, exemplar_size, instance_size, context, seed=seed)
        if shift < 0 or scale_jitter < 0:
            raise ValueError(f"BoxPairs: shift and scale_jitter must be >= 0, got {shift}, {scale_jitter}")
        self.shift, self.scale_jitter = shift, scale_jitter

    def __getitem__(self, index: int):
        source, rng, view_z, view_x = self._views(index)
        aug = source.augmentation
        z = self._crop(view_z, self.exemplar_size, 0.0, dataclasses.replace(aug, shift=0.0, stretch=0.0), rng)
        template_size = view_z.size * self.exemplar_size / exemplar_side(view_z.size, self.context)
        out = self.instance_size
        side = exemplar_side(view_x.size, self.context) * out / self.exemplar_size
        side *= np.exp(rng.uniform(-self.scale_jitter, self.scale_jitter))
        center = view_x.center + rng.uniform(-self.shift, self.shift, size=2) * side / out
        x = aug.photometric(rng, crop(view_x.image, center, side, 0.0, out)[0])
        middle = (view_x.center - center) * out / side + (out - 1) / 2
        half = view_x.size * out / side / 2
        target = torch.tensor(np.concatenate([middle - half, middle + half, template_size]), dtype=torch.float32)
        return _chw(z), _chw(x), target
