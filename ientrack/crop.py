"""The one crop of the toolkit: a single affine warp (translate, scale, rotate) per output patch.

Geometry, shared by the numpy (``cv2.warpAffine``) and torch (``grid_sample``) paths:

- ``center = (cx, cy)`` in 0-based pixel coordinates of the source image, ``size = (sw, sh)`` (or one
  number for a square) the extent of source pixels that the patch covers, ``out_size = (ow, oh)`` (or
  one number) the patch size in pixels.
- Output pixel ``q`` samples the source at ``center + R(angle) @ ((sw / ow, sh / oh) * (q - (out - 1) / 2))``,
  i.e. pixel edges align: the patch spans exactly ``size`` source pixels about ``center``.
- ``R(angle)`` turns counter-clockwise as displayed (image y down, ``cv2.getRotationMatrix2D``'s sign):
  ``R = [[cos, sin], [-sin, cos]]``. The patch's corners land on the corners of
  ``ientrack.geometry.rotated_rect_polygon(center, size, angle)`` (half a source pixel outside them).
- Hence a crop at ``angle = theta`` shows the source rotated back by ``theta`` (clockwise on screen):
  a target that turned by ``theta`` counter-clockwise appears upright. ``angle = -theta`` shows the
  target turned by a further ``theta``.
- Outside the image the patch takes the ``border`` colour (default: the image's mean colour, as SiamFC
  pads), blended bilinearly at the edge in both paths.
"""
import cv2
import numpy as np
import torch
import torch.nn.functional as F


def _rows(value, width, name):
    """``value`` as an ``N x width`` float array. With ``width == 1`` a number or ``N`` numbers; with
    ``width == 2`` one pair (1-D) or ``N`` rows (2-D); a single column broadcasts across the row."""
    a = np.asarray(value, dtype=np.float64)
    if a.ndim < 2:
        a = a.reshape(-1, 1) if width == 1 else a.reshape(1, -1)
    if a.ndim != 2 or a.shape[1] not in (1, width):
        raise ValueError(f"crop: bad shape {np.shape(value)} for {name}")
    return np.broadcast_to(a, (a.shape[0], width))


def _broadcast(arrays, names):
    """Broadcast row arrays of 1 or N rows to N rows, with an error naming the mismatch."""
    n = max(len(a) for a in arrays)
    for a, name in zip(arrays, names):
        if len(a) not in (1, n):
            raise ValueError(f"crop: {name} has {len(a)} entries, expected 1 or {n}")
    return [np.broadcast_to(a, (n, a.shape[1])) for a in arrays]


def _out_pair(out_size):
    a = np.asarray(out_size, dtype=np.float64).reshape(-1)
    ow, oh = (a[0], a[0]) if a.size == 1 else a[:2]
    if ow < 1 or oh < 1 or a.size > 2:
        raise ValueError(f"crop: out_size must be a positive number or (ow, oh), got {out_size}")
    return int(round(ow)), int(round(oh))


def crop_matrices(centers, sizes, angles, out_size) -> np.ndarray:
    """``N x 2 x 3`` affine maps from output pixel ``(u, v, 1)`` to source pixel ``(x, y)``.

    ``centers``: ``(2,)`` or ``(N, 2)``; ``sizes``: a number or ``(N,)`` for squares, ``(N, 2)`` or
    ``(1, 2)`` for ``(w, h)``; ``angles`` (degrees): a number or ``(N,)``; ``out_size``: a number or
    ``(ow, oh)``. Arguments of one entry broadcast to the others' ``N``.
    """
    sizes = _rows(sizes, 1, "sizes") if np.ndim(sizes) <= 1 else _rows(sizes, 2, "sizes")
    centers, sizes, angles = _broadcast(
        [_rows(centers, 2, "centers"), np.broadcast_to(sizes, (len(sizes), 2)), _rows(angles, 1, "angles")],
        ["centers", "sizes", "angles"],
    )
    if np.any(sizes <= 0):
        raise ValueError(f"crop: sizes must be positive, got {sizes.tolist()}")
    ow, oh = _out_pair(out_size)
    a = np.deg2rad(angles[:, 0])
    cos, sin = np.cos(a), np.sin(a)
    kx, ky = sizes[:, 0] / ow, sizes[:, 1] / oh
    m = np.empty((len(a), 2, 3))
    m[:, 0, 0], m[:, 0, 1] = cos * kx, sin * ky
    m[:, 1, 0], m[:, 1, 1] = -sin * kx, cos * ky
    m[:, :, 2] = centers - m[:, :, 0] * (ow - 1) / 2 - m[:, :, 1] * (oh - 1) / 2
    return m


def mean_color(image: np.ndarray):
    """Per-channel mean of an ``H x W x C`` image, the default border colour."""
    return tuple(float(v) for v in np.asarray(image).reshape(-1, image.shape[-1]).mean(axis=0))


def crop(image: np.ndarray, centers, sizes, angles, out_size, border=None, out=None) -> np.ndarray:
    """Patches ``N x oh x ow x C`` (same dtype as ``image``) cut from an ``H x W x C`` array.

    One ``cv2.warpAffine`` (bilinear) per patch; see the module docstring for the geometry.
    ``border``: the colour outside the image (default :func:`mean_color`); ``out``: an optional
    preallocated ``N x oh x ow x C`` array to write into (saves an allocation per frame).
    """
    image = np.asarray(image)
    if image.ndim != 3 or not 1 <= image.shape[2] <= 4:
        raise ValueError(f"crop: expected an H x W x C image with C <= 4 (use crop_torch beyond), got shape {image.shape}")
    mats = crop_matrices(centers, sizes, angles, out_size)
    ow, oh = _out_pair(out_size)
    border = mean_color(image) if border is None else tuple(float(b) for b in np.broadcast_to(border, image.shape[-1:]))
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    shape = (len(mats), oh, ow, image.shape[2])
    if out is None:
        out = np.empty(shape, dtype=image.dtype)
    elif out.shape != shape or out.dtype != image.dtype or not out.flags.c_contiguous:
        raise ValueError(f"crop: out must be a contiguous {image.dtype} array of shape {shape}, got {out.dtype} {out.shape}")
    for i, m in enumerate(mats):
        dst = out[i] if image.shape[2] > 1 else out[i, :, :, 0]
        cv2.warpAffine(image, m, (ow, oh), dst=dst, flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=border)
    return out


def crop_torch(image: torch.Tensor, centers, sizes, angles, out_size, border=None) -> torch.Tensor:
    """Patches ``N x C x oh x ow`` cut from a ``C x H x W`` float tensor with ``grid_sample``.

    Same geometry as :func:`crop` (bilinear, ``border`` colour outside, default the mean colour); runs on
    the tensor's device, so this is the GPU path.
    """
    if image.dim() != 3:
        raise ValueError(f"crop_torch: expected a C x H x W tensor, got shape {tuple(image.shape)}")
    c, h, w = image.shape
    mats = crop_matrices(centers, sizes, angles, out_size)
    ow, oh = _out_pair(out_size)
    # normalised coordinates (align_corners=False): x_n = (2 x + 1) / W - 1
    to_src_norm = np.array([[2.0 / w, 0, 1.0 / w - 1], [0, 2.0 / h, 1.0 / h - 1], [0, 0, 1]])
    from_out_norm = np.array([[ow / 2.0, 0, (ow - 1) / 2.0], [0, oh / 2.0, (oh - 1) / 2.0], [0, 0, 1]])
    full = np.concatenate([mats, np.broadcast_to([[[0.0, 0.0, 1.0]]], (len(mats), 1, 3))], axis=1)
    theta = (to_src_norm @ full @ from_out_norm)[:, :2]
    theta = torch.as_tensor(theta, dtype=image.dtype, device=image.device)
    grid = F.affine_grid(theta, [len(mats), c, oh, ow], align_corners=False)
    if border is None:
        border = image.mean(dim=(1, 2))
    border = torch.as_tensor(border, dtype=image.dtype, device=image.device).reshape(-1, 1, 1).expand(c, 1, 1)
    shifted = (image - border).unsqueeze(0).expand(len(mats), c, h, w)
    patches = F.grid_sample(shifted, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return patches + border
