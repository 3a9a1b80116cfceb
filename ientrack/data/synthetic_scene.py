"""One sequence of the built-in benchmark: its plan (smooth random motion drawn from a seed) and its frames.

A scene is a panning background photo with up to three pasted layers, bottom to top: a distractor (a patch
cut next to the target in the same photo, tinted), the target (a textured patch of a photo) and an occluder
(a bar of texture crossing the target once). Every layer is pasted with ONE ``cv2.warpAffine`` per frame of
the patch and its alpha (premultiplied, bilinear, zero outside), using :func:`ientrack.crop.crop_matrices`:
patch pixel ``q`` lands at ``center + R(angle) @ (scale * (q - (patch - 1) / 2))``, so the pasted pixels
cover the rectangle ``rotated_rect_polygon(center, scale * patch_size, angle)`` (pixel edges half a pixel
outside its corners, the box convention). Illumination change is a global gain and bias drift.

Attributes (OTB codes): IPR when the target turns by 20 degrees or more, SV when its scale leaves
[2/3, 3/2] of frame 0's, FM when its centre moves more than 20 px in one frame, OCC with an occluder,
BC with a distractor, IV with illumination drift.

Two families of presets: ``turning`` (the ``Builtin`` benchmark: six of eight targets turn in the image plane)
and ``still`` (``Builtin-still``: every target keeps its in-plane angle up to a small wobble but tilts out of the
image plane and breathes, the way real pedestrians, faces and vehicles change while they stay upright; the
patch goes through a per-frame homography before its affine paste, and the ground-truth polygon is the
warped quadrilateral). OPR when a target tilts by 20 degrees or more, DEF when its width breathes by more
than 10%.
"""
from dataclasses import dataclass, field
from typing import List, NamedTuple, Optional, Tuple

import cv2
import numpy as np

from ientrack.crop import crop_matrices
from ientrack.data.rot import envelope_box
from ientrack.data.synthetic_photos import BACKGROUNDS, OCCLUDERS, TARGETS, load_photo
from ientrack.geometry import polygon_to_box, rotated_rect_polygon

# sequence i follows PRESETS[i % len(PRESETS)]: total turn range in degrees (None: a small wobble) and events
PRESETS = (
    dict(turn=(180, 360), sv=True, distractor=True),
    dict(turn=(60, 120), occluder=True),
    dict(turn=(180, 300), iv=True, occluder=True),
    dict(turn=None, fm=True, distractor=True, sv=True),
    dict(turn=(270, 400), distractor=True, occluder=True),
    dict(turn=(60, 120), iv=True, sv=True),
    dict(turn=(180, 270), fm=True, iv=True),
    dict(turn=None, occluder=True, distractor=True, iv=True),
)
STILL_PRESETS = tuple(dict(turn=None, tilt=True, **events) for events in (
    dict(distractor=True), dict(occluder=True), dict(iv=True, sv=True), dict(fm=True, distractor=True),
    dict(), dict(iv=True, occluder=True), dict(fm=True, sv=True), dict(distractor=True, iv=True)))
FAMILIES = {"turning": PRESETS, "still": STILL_PRESETS}


@dataclass
class Layer:
    """A patch pasted in every frame: ``premultiplied`` is ``h0 x w0 x 4`` float32 (RGB times alpha, alpha),
    ``matrices`` the ``T x 2 x 3`` maps from patch pixels to frame pixels, ``warps`` optional ``T x 3 x 3``
    homographies of patch pixels applied before them."""

    premultiplied: np.ndarray
    matrices: np.ndarray
    warps: Optional[np.ndarray] = None

    def frame_map(self, t: int) -> np.ndarray:
        """The ``3 x 3`` map from patch pixels to frame pixels at frame ``t``."""
        m = np.vstack([self.matrices[t], [0.0, 0.0, 1.0]])
        return m if self.warps is None else m @ self.warps[t]

    def polygons(self) -> np.ndarray:
        """``T x 8``: where the centres of the patch's corner pixels land in every frame."""
        h0, w0 = self.premultiplied.shape[:2]
        corners = np.array([[0, 0, 1], [w0 - 1, 0, 1], [w0 - 1, h0 - 1, 1], [0, h0 - 1, 1]], float)
        return np.stack([_project(corners, self.frame_map(t)).reshape(-1) for t in range(len(self.matrices))])


@dataclass
class Scene:
    """The plan of one sequence: everything needed to render any frame, and the target's ground truth."""

    name: str
    frame_size: Tuple[int, int]  # (W, H)
    background: np.ndarray  # the resized photo, float32 RGB
    background_offsets: np.ndarray  # T x 2: frame pixel (0, 0) shows background pixel offset_t
    target: Layer
    under: List[Layer] = field(default_factory=list)  # distractors, drawn below the target
    over: List[Layer] = field(default_factory=list)  # occluders, drawn above it
    gains: Optional[np.ndarray] = None  # T, global illumination gain
    biases: Optional[np.ndarray] = None  # T, global illumination bias (grey levels)
    polygons: Optional[np.ndarray] = None  # T x 8, 0-based
    gt: Optional[np.ndarray] = None  # T x 4 envelope boxes, 0-based
    angles: Optional[np.ndarray] = None  # T, degrees CCW as displayed, relative to frame 0
    attributes: List[str] = field(default_factory=list)

    def __len__(self):
        return len(self.background_offsets)


class Rendered(NamedTuple):
    """A rendered frame (RGB uint8) with the target's own alpha and its alpha left visible by occluders."""

    image: np.ndarray
    target_alpha: np.ndarray
    visible_alpha: np.ndarray


def smooth_noise(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    """``n`` samples of unit-variance Gaussian noise smoothed by a Gaussian of ``sigma`` frames."""
    radius = int(3 * sigma) + 1
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel /= np.sqrt((kernel ** 2).sum())
    return np.convolve(rng.standard_normal(n + 2 * radius), kernel, mode="valid")


def _angle_curve(rng, n, turn) -> np.ndarray:
    """Angles from 0: a monotone turn of a random total in ``turn`` (either sign), or a small wobble."""
    if turn is None:
        wobble = smooth_noise(rng, n, 12.0)
        return 8.0 * (wobble - wobble[0])
    total = rng.uniform(*turn) * rng.choice([-1.0, 1.0])
    speed = np.exp(0.6 * smooth_noise(rng, n - 1, 8.0))
    progress = np.concatenate([[0.0], np.cumsum(speed)])
    return total * progress / progress[-1] + 0.0  # + 0.0 turns -0.0 into 0.0


def _tilts(rng, n, size) -> Tuple[np.ndarray, float, float]:
    """``n`` homographies of a ``w x h`` patch's pixels: the patch turned out of the image plane about its
    centre (yaw and pitch, smooth, 0 at frame 0, at most 60 degrees) as a pinhole camera at twice the patch's
    size sees it, its width breathing first; with the largest tilt (degrees) and width factor's range."""
    w, h = size
    yaw, pitch = (np.clip(30.0 * (z - z[0]), -60, 60) for z in (smooth_noise(rng, n, 10.0), smooth_noise(rng, n, 10.0)))
    breath = smooth_noise(rng, n, 8.0)
    width = np.exp(0.08 * (breath - breath[0]))
    center = np.array([(w - 1) / 2, (h - 1) / 2])
    corners = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], float)
    focal = 2.0 * max(w, h)
    warps = np.empty((n, 3, 3))
    for t in range(n):
        a, b = np.deg2rad(yaw[t]), np.deg2rad(pitch[t])
        turn_y = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
        turn_x = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
        flat = np.concatenate([(corners - center) * [width[t], 1.0], np.zeros((4, 1))], axis=1)
        turned = flat @ (turn_y @ turn_x).T
        seen = center + focal * turned[:, :2] / (focal + turned[:, 2:])
        warps[t] = cv2.getPerspectiveTransform(corners.astype(np.float32), seen.astype(np.float32))
    return warps, float(np.max(np.abs([yaw, pitch]))), float(np.ptp(width))


def _project(points, m) -> np.ndarray:
    """``N x 2`` images of homogeneous ``N x 3`` points under the ``3 x 3`` map ``m``."""
    mapped = points @ m.T
    return mapped[:, :2] / mapped[:, 2:]


def _path(rng, n, lo, hi, sigma) -> np.ndarray:
    """``n x 2`` smooth random positions inside the box ``[lo, hi]`` (per axis)."""
    lo, hi = np.asarray(lo, float), np.maximum(np.asarray(hi, float), lo)
    z = np.stack([smooth_noise(rng, n, sigma) + rng.uniform(-1, 1) for _ in range(2)], axis=1)
    return lo + (hi - lo) * 0.5 * (1 + np.tanh(z))


def _resized(photo: np.ndarray, k: float) -> np.ndarray:
    """``photo`` scaled by ``k`` (area averaging when shrinking)."""
    h, w = photo.shape[:2]
    size = (max(1, round(w * k)), max(1, round(h * k)))
    return cv2.resize(photo, size, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)


def _short_side(photo: np.ndarray, side: float) -> np.ndarray:
    """``photo`` scaled so that its shorter side is ``side`` pixels."""
    return _resized(photo, side / min(photo.shape[:2]))


def _cut(photo, size, rng, near=None, tries=12) -> Tuple[np.ndarray, np.ndarray]:
    """A ``w x h`` patch of ``photo`` and its top-left corner: the most textured of ``tries`` random ones,
    or the one at ``near`` (a corner) when given."""
    w, h = size
    limit = np.array([photo.shape[1] - w, photo.shape[0] - h])
    if near is not None:
        corner = np.clip(np.asarray(near), 0, limit).astype(int)
        return photo[corner[1]:corner[1] + h, corner[0]:corner[0] + w], corner
    corners = (rng.uniform(size=(tries, 2)) * (limit + 1)).astype(int)
    texture = [photo[y:y + h, x:x + w].astype(np.float32).std() for x, y in corners]
    x, y = corners[int(np.argmax(texture))]
    return photo[y:y + h, x:x + w], np.array([x, y])


def _layer(patch_rgb, centers, sizes, angles, alpha=1.0) -> Layer:
    """A layer pasting ``patch_rgb`` (``h0 x w0 x 3``) with the given per-frame geometry."""
    h0, w0 = patch_rgb.shape[:2]
    rgba = np.concatenate([patch_rgb.astype(np.float32) * alpha, np.full((h0, w0, 1), alpha, np.float32)], axis=2)
    return Layer(rgba, crop_matrices(centers, sizes, angles, (w0, h0)))


def _radius(size, scales) -> float:
    return 0.5 * float(np.hypot(*size)) * float(np.max(scales))


def _occluder(rng, n, target_centers, target_radius, short_side, patch_side, photo_name) -> Layer:
    """A tinted bar of texture that crosses the target once, between 15% and 95% of the sequence."""
    w, h = int(rng.uniform(0.4, 0.7) * patch_side), int(rng.uniform(1.0, 1.6) * patch_side)
    patch, _ = _cut(_short_side(load_photo(photo_name), 1.5 * short_side), (w, h), rng)
    patch = np.clip(patch * rng.uniform(0.6, 1.2, size=3), 0, 255)
    phi = rng.uniform(0, 180)
    across = np.array([np.cos(np.deg2rad(phi)), -np.sin(np.deg2rad(phi))])  # the bar's own x axis
    along = np.array([-across[1], across[0]])
    reach = target_radius + 0.5 * np.hypot(w, h)  # beyond this the bar does not touch the target
    middle, half = rng.uniform(0.35, 0.75) * n, max(2.0, rng.uniform(0.12, 0.2) * n)
    travel = reach * (np.arange(n) - middle) / half
    centers = target_centers + travel[:, None] * across + rng.uniform(-0.25, 0.25) * h * along
    return _layer(patch, centers, np.array([[w, h]]), np.full(n, phi))


def _distractor(rng, n, photo, corner, size, scales, frame_size, target_centers, target_radius) -> Layer:
    """A tinted patch cut next to the target in the same photo, turning and wandering on its own path."""
    offset = rng.uniform(-0.35, 0.35, size=2) * size
    patch, _ = _cut(photo, size, rng, near=corner + offset)
    patch = np.clip(patch * rng.uniform(0.85, 1.15, size=3), 0, 255)
    factor = rng.uniform(0.85, 1.1)
    radius = _radius(size, scales * factor)
    lo, hi = np.full(2, radius + 1), np.asarray(frame_size) - radius - 1
    for _ in range(20):  # keep frame 0 clear of the target
        centers = _path(rng, n, lo, hi, 14.0)
        if np.linalg.norm(centers[0] - target_centers[0]) > radius + target_radius:
            break
    angles = rng.uniform(-90, 90) + _angle_curve(rng, n, (60, 180))
    return _layer(patch, centers, np.outer(scales * factor, size), angles)


def _attributes(preset, centers, scales, angles) -> List[str]:
    attributes = []
    if preset.get("iv"):
        attributes.append("IV")
    if np.any(scales < 2 / 3) or np.any(scales > 3 / 2):
        attributes.append("SV")
    if preset.get("occluder"):
        attributes.append("OCC")
    if len(centers) > 1 and np.max(np.linalg.norm(np.diff(centers, axis=0), axis=1)) > 20:
        attributes.append("FM")
    if np.max(np.abs(angles)) >= 20:
        attributes.append("IPR")
    if preset.get("distractor"):
        attributes.append("BC")
    return attributes


def plan_scene(index: int, num_frames: int, frame_size=(320, 240), seed: int = 0, family: str = "turning") -> Scene:
    """The deterministic plan of sequence ``index`` (preset ``index % 8`` of ``FAMILIES[family]``, random
    stream ``(seed, index)``): photos, patches, trajectories, illumination and the target's ground truth."""
    if num_frames < 2:
        raise ValueError(f"built-in benchmark: num_frames must be at least 2, got {num_frames}")
    if family not in FAMILIES:
        raise ValueError(f"built-in benchmark: family must be one of {sorted(FAMILIES)}, got {family!r}")
    presets = FAMILIES[family]
    rng = np.random.default_rng([seed, index])
    preset = presets[index % len(presets)]
    n, (fw, fh) = num_frames, frame_size
    short_side = min(fw, fh)
    background_name = BACKGROUNDS[index % len(BACKGROUNDS)]
    target_name = TARGETS[(3 * index + 1) % len(TARGETS)]
    if target_name == background_name:
        target_name = TARGETS[(3 * index + 2) % len(TARGETS)]

    photo = load_photo(background_name)
    background = _resized(photo, 1.6 * max(fw / photo.shape[1], fh / photo.shape[0]))
    slack = np.array([background.shape[1] - fw, background.shape[0] - fh], float)
    background_offsets = _path(rng, n, np.zeros(2), slack, 25.0)

    side = rng.uniform(0.14, 0.28) * short_side
    aspect = np.exp(rng.uniform(-0.5, 0.5))
    size = (max(8, int(side * aspect)), max(8, int(side / aspect)))
    scale_noise = smooth_noise(rng, n, 15.0)
    scales = np.clip(np.exp((0.35 if preset.get("sv") else 0.04) * (scale_noise - scale_noise[0])), 0.5, 1.8)
    radius = _radius(size, scales)
    centers = _path(rng, n, np.full(2, radius + 1), np.array([fw, fh]) - radius - 1, 4.0 if preset.get("fm") else 15.0)
    angles = _angle_curve(rng, n, preset["turn"])
    target_photo = _short_side(load_photo(target_name), 1.5 * short_side)
    patch, corner = _cut(target_photo, size, rng)
    sizes = np.outer(scales, size)

    under = [_distractor(rng, n, target_photo, corner, np.array(size), scales, (fw, fh), centers, radius)] \
        if preset.get("distractor") else []
    over = [_occluder(rng, n, centers, radius, short_side, max(size), OCCLUDERS[index % len(OCCLUDERS)])] \
        if preset.get("occluder") else []
    gains, biases = np.ones(n), np.zeros(n)
    if preset.get("iv"):
        g, b = smooth_noise(rng, n, 15.0), smooth_noise(rng, n, 15.0)
        gains, biases = np.clip(np.exp(0.25 * (g - g[0])), 0.6, 1.6), 15.0 * (b - b[0])

    target = _layer(patch, centers, sizes, angles)
    polygons, gt = rotated_rect_polygon(centers, sizes, angles), envelope_box(centers, sizes, angles)
    attributes = _attributes(preset, centers, scales, angles)
    if preset.get("tilt"):
        target.warps, tilt, breathing = _tilts(rng, n, size)
        polygons = target.polygons()
        gt = polygon_to_box(polygons)
        attributes += ["OPR"] * (tilt >= 20) + ["DEF"] * (breathing > 0.1)
    return Scene(name=f"s{index:02d}-{target_name}-on-{background_name}", frame_size=(fw, fh),
                 background=background.astype(np.float32), background_offsets=background_offsets,
                 target=target, under=under, over=over, gains=gains, biases=biases,
                 polygons=polygons, gt=gt, angles=angles, attributes=attributes)


def _paste(canvas: np.ndarray, layer: Layer, t: int) -> np.ndarray:
    """Composite ``layer`` over ``canvas`` in place (premultiplied alpha, one warp of the patch's bounding
    region); returns the layer's alpha over the whole canvas."""
    h, w = canvas.shape[:2]
    m = layer.frame_map(t)
    ph, pw = layer.premultiplied.shape[:2]
    corners = _project(np.array([[-1, -1, 1], [pw, -1, 1], [pw, ph, 1], [-1, ph, 1]], float), m)
    x0, y0 = np.maximum(np.floor(corners.min(axis=0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(corners.max(axis=0)).astype(int) + 1, [w, h])
    alpha = np.zeros((h, w), np.float32)
    if x1 <= x0 or y1 <= y0:
        return alpha
    shifted = np.array([[1.0, 0, -x0], [0, 1, -y0], [0, 0, 1]]) @ m
    warp = cv2.warpAffine if layer.warps is None else cv2.warpPerspective
    warped = warp(layer.premultiplied, shifted[:2] if layer.warps is None else shifted, (int(x1 - x0), int(y1 - y0)),
                  flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    region = canvas[y0:y1, x0:x1]
    region *= 1.0 - warped[:, :, 3:]
    region += warped[:, :, :3]
    alpha[y0:y1, x0:x1] = warped[:, :, 3]
    return alpha


def render_frame(scene: Scene, t: int) -> Rendered:
    """Frame ``t`` of ``scene``: background (panned by one warp), layers, then the illumination drift."""
    fw, fh = scene.frame_size
    shift = np.array([[1, 0, scene.background_offsets[t, 0]], [0, 1, scene.background_offsets[t, 1]]])
    canvas = cv2.warpAffine(scene.background, shift, (fw, fh), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                            borderMode=cv2.BORDER_REFLECT_101)
    for layer in scene.under:
        _paste(canvas, layer, t)
    target_alpha = _paste(canvas, scene.target, t)
    visible = target_alpha.copy()
    for layer in scene.over:
        visible *= 1.0 - _paste(canvas, layer, t)
    image = np.clip(canvas * scene.gains[t] + scene.biases[t] + 0.5, 0, 255).astype(np.uint8)
    return Rendered(image, target_alpha, visible)
