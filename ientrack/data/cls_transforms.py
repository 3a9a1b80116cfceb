"""Batch geometry for classification images (B, C, H, W) float tensors, on whatever device they live.

Rotation is counter-clockwise as displayed, about the image centre ``((W - 1) / 2, (H - 1) / 2)``, the
convention of :mod:`ientrack.equivariance.groups`; a scale ``s < 1`` shrinks the content about the
centre. One bilinear ``grid_sample`` per batch, each sample with its own angle and scale.
"""
import math

import torch
import torch.nn.functional as F


def rotate_scale(x: torch.Tensor, angles_deg: torch.Tensor, scales: torch.Tensor | None = None,
                 padding_mode: str = "zeros") -> torch.Tensor:
    """Rotate sample ``i`` of ``x`` by ``angles_deg[i]`` and scale it by ``scales[i]`` (bilinear, same shape).

    ``padding_mode``: what fills the corners, ``'zeros'`` (MNIST's black background), ``'reflection'``
    or ``'border'`` (natural images).
    """
    if x.dim() != 4:
        raise ValueError(f"rotate_scale needs (B, C, H, W) images, got shape {tuple(x.shape)}")
    b, _, h, w = x.shape
    angles = torch.deg2rad(torch.as_tensor(angles_deg, dtype=torch.float32)).to(x.device).reshape(-1)
    inv_scale = 1.0 / (torch.ones_like(angles) if scales is None
                       else torch.as_tensor(scales, dtype=torch.float32).to(x.device).reshape(-1))
    if angles.numel() != b or inv_scale.numel() != b:
        raise ValueError(f"need one angle and one scale per sample: batch {b}, {angles.numel()} angles, "
                         f"{inv_scale.numel()} scales")
    cos, sin = torch.cos(angles) * inv_scale, torch.sin(angles) * inv_scale
    # the output pixel at offset (u, v) from the centre samples the input at R(-angle) (u, v) / scale
    # (y points down); align_corners=True normalises the axes by (W - 1) / 2 and (H - 1) / 2
    sx, sy = max(w - 1, 1) / 2, max(h - 1, 1) / 2
    zero = torch.zeros_like(cos)
    theta = torch.stack([torch.stack([cos, -sin * sy / sx, zero], -1),
                         torch.stack([sin * sx / sy, cos, zero], -1)], -2)
    grid = F.affine_grid(theta, (b, 1, h, w), align_corners=True)
    out = F.grid_sample(x.float(), grid, mode="bilinear", padding_mode=padding_mode, align_corners=True)
    return out.to(x.dtype)


def uniform_angles(count: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``count`` angles drawn uniformly from [0, 360) degrees."""
    return torch.rand(count, generator=generator) * 360.0


def random_rotate(x: torch.Tensor, generator: torch.Generator | None = None,
                  padding_mode: str = "zeros") -> torch.Tensor:
    """Each sample rotated by its own uniform random angle (the Rot-MNIST training augmentation)."""
    return rotate_scale(x, uniform_angles(x.shape[0], generator), padding_mode=padding_mode)


def fit_size(x: torch.Tensor, size: int) -> torch.Tensor:
    """Pad (zeros) or centre-crop images (..., H, W) to ``size x size``; an odd pixel goes right / bottom."""
    h, w = x.shape[-2:]
    pad_h, pad_w = size - h, size - w
    if pad_h == 0 and pad_w == 0:
        return x
    # negative padding crops
    return F.pad(x, (math.floor(pad_w / 2), math.ceil(pad_w / 2), math.floor(pad_h / 2), math.ceil(pad_h / 2)))
