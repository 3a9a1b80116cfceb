"""Random augmentations of training pairs, driven by an explicit ``numpy.random.Generator``.

Geometric jitter (shift and stretch) is not applied to pixels: it moves and scales the crop window, so
that each training crop stays one affine warp (:func:`ientrack.crop.crop`). Photometric changes (colour,
blur) act on the ``uint8`` crop afterwards.
"""
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Augmentation:
    """Strengths of the random changes applied to one crop.

    ``shift``: the largest offset of the target from the crop centre, in output pixels (siamfc-pytorch's
    random crop gives 4 on the 255 search image); ``stretch``: the largest relative change of the crop
    window's width and height, drawn independently (0.05 in siamfc-pytorch); ``color``: the largest
    relative change of brightness, contrast and saturation; ``blur``: the probability of a Gaussian blur
    with sigma in ``[0.5, 2]`` output pixels.
    """

    shift: float = 0.0
    stretch: float = 0.0
    color: float = 0.0
    blur: float = 0.0

    def window(self, rng: np.random.Generator, size, out_size: float):
        """A jittered crop window ``(center offset, size)`` around a window of ``size`` = ``(w, h)``
        source pixels; the offset is in source pixels and turns with the crop (add it in crop frame)."""
        size = np.asarray(size, dtype=np.float64)
        scale = 1.0 + rng.uniform(-self.stretch, self.stretch, size=2)
        offset = rng.uniform(-self.shift, self.shift, size=2) * size / out_size
        return offset, size * scale

    def photometric(self, rng: np.random.Generator, image: np.ndarray) -> np.ndarray:
        """Colour jitter and random blur of an RGB ``uint8`` ``H x W x 3`` image (a new array)."""
        out = image.astype(np.float32)
        if self.color > 0:
            out = _jitter_color(rng, out, self.color)
        if self.blur > 0 and rng.uniform() < self.blur:
            out = cv2.GaussianBlur(out, (0, 0), sigmaX=rng.uniform(0.5, 2.0))
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _jitter_color(rng: np.random.Generator, image: np.ndarray, strength: float) -> np.ndarray:
    """Brightness, contrast and saturation each scaled by a factor in ``[1 - strength, 1 + strength]``."""
    brightness, contrast, saturation = 1.0 + rng.uniform(-strength, strength, size=3)
    image = image * brightness
    gray = image @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    image = gray.mean() + (image - gray.mean()) * contrast
    gray = gray[..., None] * contrast + gray.mean() * (1 - contrast)
    return gray + (image - gray) * saturation


SEQUENCE_AUGMENTATION = Augmentation(shift=4.0, stretch=0.05)
"""siamfc-pytorch's augmentation of pairs from video: a small shift and stretch of the search crop."""

STILL_IMAGE_AUGMENTATION = Augmentation(shift=4.0, stretch=0.15, color=0.3, blur=0.3)
"""Pairs cut from one still image need stronger changes to make the search image differ."""
