"""Finite rotation groups C_N and D_N, and their action on images and feature maps.

Conventions (see docs/EQUIVARIANCE.md):
- An element is ``r^k f^s``: first mirror left-right if ``s`` (``x -> -x``, ``torch.flip`` on the last
  dim), then rotate by ``k * 360 / N`` degrees counter-clockwise as displayed (image y points down;
  ``torch.rot90(x, k, dims=(-2, -1))`` is the same rotation for multiples of 90 degrees).
- Rotations are about the image centre ``((W - 1) / 2, (H - 1) / 2)``. Multiples of 90 degrees are
  exact (``rot90``); other angles resample bilinearly (``grid_sample``, ``align_corners=True``,
  reflection padding by default), which blurs: that error is measured in docs/EQUIVARIANCE.md.
- Regular-representation fields (e2cnn's layout: ``|G|`` consecutive channels per field, channel
  ``s * N + k`` belongs to element ``r^k f^s``) also permute their channels: ``rho(g) e_h = e_{gh}``.
"""
import math
import re
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class GroupElement:
    """``r^rotation f^reflection`` in a group of ``order_n`` rotations."""

    rotation: int
    reflection: bool
    order_n: int

    @property
    def angle(self) -> float:
        """Rotation angle in degrees, counter-clockwise as displayed."""
        return 360.0 * self.rotation / self.order_n

    @property
    def exact(self) -> bool:
        """True when the action on a pixel grid needs no interpolation (a multiple of 90 degrees)."""
        return (4 * self.rotation) % self.order_n == 0

    @property
    def index(self) -> int:
        """Position of this element in its group's ``elements`` list (and in a regular field)."""
        return int(self.reflection) * self.order_n + self.rotation


class PlanarGroup:
    """C_N (rotations only) or D_N (rotations and left-right mirrors)."""

    def __init__(self, n: int, reflections: bool):
        if n < 1:
            raise ValueError(f"a rotation group needs N >= 1, got {n}")
        self.n = n
        self.reflections = reflections
        self.elements = [GroupElement(k, bool(s), n) for s in range(1 + reflections) for k in range(n)]

    @property
    def name(self) -> str:
        return f"{'D' if self.reflections else 'C'}{self.n}"

    @property
    def order(self) -> int:
        """Number of elements: N for C_N, 2N for D_N."""
        return len(self.elements)

    @property
    def identity(self) -> GroupElement:
        return self.elements[0]

    @property
    def exact(self) -> bool:
        """True when every element acts on pixel grids without interpolation."""
        return all(g.exact for g in self.elements)

    def __repr__(self):
        return f"PlanarGroup({self.name})"

    def __eq__(self, other):
        return isinstance(other, PlanarGroup) and (self.n, self.reflections) == (other.n, other.reflections)

    def __hash__(self):
        return hash((self.n, self.reflections))

    def _check(self, g: GroupElement):
        if g.order_n != self.n or (g.reflection and not self.reflections):
            raise ValueError(f"{g} is not an element of {self.name}")

    def compose(self, a: GroupElement, b: GroupElement) -> GroupElement:
        """``a * b`` (apply ``b`` first): ``r^k1 f^s1 r^k2 f^s2 = r^(k1 + (-1)^s1 k2) f^(s1 xor s2)``."""
        self._check(a)
        self._check(b)
        k = (a.rotation + (-1 if a.reflection else 1) * b.rotation) % self.n
        return GroupElement(k, a.reflection != b.reflection, self.n)

    def inverse(self, g: GroupElement) -> GroupElement:
        """``g^-1``: a mirror is its own inverse, a rotation by k is undone by -k."""
        self._check(g)
        return g if g.reflection else GroupElement((-g.rotation) % self.n, False, self.n)

    def sample(self, count: int, generator: torch.Generator | None = None) -> list[GroupElement]:
        """``count`` elements drawn uniformly (with replacement)."""
        idx = torch.randint(self.order, (count,), generator=generator)
        return [self.elements[i] for i in idx.tolist()]


def cyclic(n: int) -> PlanarGroup:
    """The rotation group C_N (N rotations by multiples of 360 / N degrees)."""
    return PlanarGroup(n, reflections=False)


def dihedral(n: int) -> PlanarGroup:
    """The group D_N: C_N plus N mirrors (2N elements)."""
    return PlanarGroup(n, reflections=True)


def group_from_name(name: str) -> PlanarGroup:
    """``'C4'``, ``'C8'``, ``'D4'``... (``'R4'`` / ``'R8'``, the IEN paper's names, mean C4 / C8)."""
    match = re.fullmatch(r"([CRD])(\d+)", name.strip().upper())
    if not match:
        raise ValueError(f"unknown group name {name!r}: expected C<N>, R<N> or D<N>, e.g. 'C4', 'D4'")
    n = int(match.group(2))
    return dihedral(n) if match.group(1) == "D" else cyclic(n)


def _rotate_interpolated(x: torch.Tensor, angles_deg: torch.Tensor, padding_mode: str) -> torch.Tensor:
    """Rotate each sample of ``x`` (B, C, H, W) CCW about its centre by its own angle (bilinear). Half
    precision maps (autocast's conv outputs) are resampled in float32: a bfloat16 angle and sampling grid
    turn 135 degrees into 135.3 and err by 0.1 on a unit-amplitude map (rounding the map alone: 0.002)."""
    b, _, h, w = x.shape
    dtype = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
    a = torch.deg2rad(angles_deg.to(dtype=dtype, device=x.device))
    cos, sin = torch.cos(a), torch.sin(a)
    # output pixel (u, v) relative to the centre reads the input at R(-angle) (u, v) in the y-down frame;
    # in align_corners=True normalised coordinates the axes are scaled by (W - 1) / 2 and (H - 1) / 2
    sx, sy = max(w - 1, 1) / 2, max(h - 1, 1) / 2
    zero = torch.zeros_like(cos)
    theta = torch.stack([torch.stack([cos, -sin * sy / sx, zero], -1),
                         torch.stack([sin * sx / sy, cos, zero], -1)], -2)
    grid = F.affine_grid(theta, (b, 1, h, w), align_corners=True)
    return F.grid_sample(x.to(dtype), grid, mode="bilinear", padding_mode=padding_mode,
                         align_corners=True).to(x.dtype)


def rotate(x: torch.Tensor, angle_deg: float, padding_mode: str = "reflection") -> torch.Tensor:
    """Rotate images or feature maps (..., H, W) CCW as displayed by ``angle_deg`` about the centre.

    Multiples of 90 degrees use ``torch.rot90`` (exact; H and W swap for 90 and 270). Other angles
    resample bilinearly with ``padding_mode`` ('reflection', 'zeros' or 'border') and keep the shape.
    """
    quarter = angle_deg / 90.0
    if math.isclose(quarter, round(quarter), abs_tol=1e-9):
        return torch.rot90(x, int(round(quarter)) % 4, dims=(-2, -1))
    lead = x.shape[:-2]
    flat = x.reshape(-1, 1, *x.shape[-2:]) if x.dim() != 4 else x
    angles = torch.full((flat.shape[0],), float(angle_deg))
    return _rotate_interpolated(flat, angles, padding_mode).reshape(*lead, *x.shape[-2:])


def transform(x: torch.Tensor, g: GroupElement, padding_mode: str = "reflection") -> torch.Tensor:
    """Act with ``g`` on images or scalar feature maps (..., H, W): mirror if ``g`` has one, then rotate."""
    if g.reflection:
        x = torch.flip(x, dims=(-1,))
    return rotate(x, g.angle, padding_mode) if g.rotation else x


def transform_batch(x: torch.Tensor, elements: list[GroupElement], padding_mode: str = "reflection") -> torch.Tensor:
    """Act on each sample ``x[i]`` (B, C, H, W) with its own element ``elements[i]``."""
    if x.dim() != 4 or len(elements) != x.shape[0]:
        raise ValueError(f"transform_batch needs x of shape (B, C, H, W) and B elements, got "
                         f"{tuple(x.shape)} and {len(elements)} elements")
    flips = torch.tensor([g.reflection for g in elements], device=x.device)
    x = torch.where(flips[:, None, None, None], torch.flip(x, dims=(-1,)), x)
    if all(g.exact for g in elements):
        quarters = [g.rotation * 4 // g.order_n for g in elements]
        if x.shape[-1] != x.shape[-2] and any(q % 2 for q in quarters):
            raise ValueError(f"90-degree rotations of a batch need square maps, got {tuple(x.shape[-2:])}")
        out = torch.empty_like(x)
        for quarter in range(4):
            sel = [i for i, q in enumerate(quarters) if q == quarter]
            if sel:
                out[sel] = torch.rot90(x[sel], quarter, dims=(-2, -1))
        return out
    angles = torch.tensor([g.angle for g in elements])
    return _rotate_interpolated(x, angles, padding_mode)


def regular_permutation(group: PlanarGroup, g: GroupElement) -> list[int]:
    """``perm`` with ``out[perm[j]] = in[j]`` for one regular field: element h's channel goes to g h's."""
    return [group.compose(g, h).index for h in group.elements]


def transform_regular(x: torch.Tensor, g: GroupElement, group: PlanarGroup,
                      padding_mode: str = "zeros") -> torch.Tensor:
    """Act with ``g`` on regular-representation fields (B, F * |G|, H, W): move pixels and permute channels."""
    b, c = x.shape[:2]
    if c % group.order:
        raise ValueError(f"{c} channels do not split into regular fields of {group.name} (size {group.order})")
    moved = transform(x, g, padding_mode)
    fields = moved.reshape(b, c // group.order, group.order, *moved.shape[-2:])
    target = torch.tensor(regular_permutation(group, g), device=x.device)
    out = torch.empty_like(fields)
    out[:, :, target] = fields
    return out.reshape(b, c, *fields.shape[-2:])
