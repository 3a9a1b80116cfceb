"""The search maths of SiamFC: scale pyramid, penalties, cosine window, peak to displacement."""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F


def scale_factors(num_scales: int, step: float) -> np.ndarray:
    """``step ** k`` for ``k`` centred on 0 (3 scales, step 1.0375: ``[1/1.0375, 1, 1.0375]``)."""
    return step ** (np.arange(num_scales) - (num_scales - 1) / 2)


def scale_penalties(num_scales: int, penalty: float) -> np.ndarray:
    """1 for the middle scale (no change), ``penalty`` for every other."""
    p = np.full(num_scales, penalty)
    p[(num_scales - 1) // 2 : num_scales // 2 + 1] = 1.0
    return p


def cosine_window(size: int) -> torch.Tensor:
    """The ``size x size`` Hanning window, normalised to sum 1."""
    w = np.outer(np.hanning(size), np.hanning(size))
    return torch.as_tensor(w / w.sum(), dtype=torch.float32)


@lru_cache(maxsize=8)
def bicubic_matrix(size: int, factor: int) -> torch.Tensor:
    """The ``(factor * size) x size`` matrix of torch's bicubic upsampling along one axis
    (``align_corners=False``, borders clamped): bicubic upsampling is separable and linear, so
    ``U @ m @ U.T`` equals ``F.interpolate(m, scale_factor=factor, mode="bicubic")`` for a ``size``
    square map, at a fraction of the cost for a batch of maps."""
    with torch.inference_mode(False):  # cached: first built in a tracker's update, later used anywhere
        basis = torch.eye(size).reshape(size, 1, size, 1)
        up = F.interpolate(basis, size=(factor * size, 1), mode="bicubic", align_corners=False)
        return up.reshape(size, factor * size).T.contiguous()


def upsample_bicubic(maps: torch.Tensor, factor: int) -> torch.Tensor:
    """``maps`` (..., h, w) upsampled ``factor`` times, bicubic, as ``F.interpolate`` does it."""
    rows, cols = bicubic_matrix(maps.shape[-2], factor), bicubic_matrix(maps.shape[-1], factor)
    return rows.to(maps) @ maps @ cols.to(maps).T


@dataclass
class Peak:
    """The chosen response: scale index, rotation index (into the candidates given), displacement
    ``(dx, dy)`` of the peak from the map's centre in search-crop pixels, the raw response there, the
    peak's ``(row, column)`` in the upsampled map, and the degrees to add to the rotation's angle (a
    reading between bank entries)."""

    scale: int
    rotation: int
    displacement: np.ndarray
    response: float
    location: tuple
    rotation_offset: float = 0.0


def locate_peak(
    responses: torch.Tensor,
    penalties: torch.Tensor,
    window: torch.Tensor,
    window_influence: float,
    upsample: int,
    total_stride: int,
) -> Peak:
    """SiamFC's decision on ``S x R x h x w`` responses (scales x rotations); ``penalties``: one per scale
    (``S``) or per scale and rotation (``S x R``).

    Every map is upsampled ``upsample`` times (bicubic); the (scale, rotation) with the highest
    penalised peak wins; its map is shifted to non-negative, normalised to sum 1 and blended with the
    cosine ``window`` (``upsample * h`` square, sum 1) by ``window_influence``; the argmax gives the
    displacement, converted to search-crop pixels through the backbone's ``total_stride``.
    """
    s, r, h, w = responses.shape
    size = (h * upsample, w * upsample)
    up = upsample_bicubic(responses, upsample)
    peaks = up.amax(dim=(2, 3)) * penalties.reshape(s, -1)
    best = int(torch.argmax(peaks))
    si, ri = divmod(best, r)
    chosen = up[si, ri]
    chosen = chosen - chosen.min()
    chosen = chosen / (chosen.sum() + 1e-16)
    blended = (1 - window_influence) * chosen + window_influence * window
    iy, ix = divmod(int(torch.argmax(blended)), size[1])
    disp = (np.array([ix, iy], dtype=np.float64) - (np.array(size[::-1]) - 1) / 2) * total_stride / upsample
    return Peak(si, ri, disp, float(up[si, ri, iy, ix]), (iy, ix))
