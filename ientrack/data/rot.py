"""The Rot protocol (docs/PROTOCOLS.md): in-plane rotation of ``omega`` degrees per frame added to any sequence.

Frame ``t`` is rotated by ``theta_t = omega * t`` degrees (counter-clockwise as displayed, the sign of
``cv2.getRotationMatrix2D``) about the centre ``c_t`` of its ground-truth box (0-based pixels; the last valid
centre where the box is missing), computed on the fly when the frame is loaded: nothing is copied to disk.
"""
import math

import cv2
import numpy as np

from ientrack.data.sequence import Dataset, Sequence
from ientrack.geometry import box_center, center_to_box, polygon_to_box, rotated_rect_polygon, valid_boxes

DEFAULT_OMEGA = 2.0


def rot_dataset_name(name: str, omega: float = DEFAULT_OMEGA) -> str:
    """``Rot-<name>`` for the default ``omega`` (2), ``Rot<omega:g>-<name>`` otherwise (``Rot4-OTB100``)."""
    return f"Rot-{name}" if omega == DEFAULT_OMEGA else f"Rot{omega:g}-{name}"


def envelope_box(center, size, angle_deg) -> np.ndarray:
    """Axis-aligned envelope ``(x, y, w, h)`` of a ``w x h`` rectangle turned by ``angle_deg`` about ``center``.

    ``w' = |w cos| + |h sin|``, ``h' = |w sin| + |h cos|``, same centre (box-centre convention); any leading shape.
    """
    size = np.asarray(size, dtype=np.float64)
    a = np.deg2rad(np.asarray(angle_deg, dtype=np.float64))[..., None]
    cos, sin = np.abs(np.cos(a)), np.abs(np.sin(a))
    w, h = size[..., 0:1], size[..., 1:2]
    return center_to_box(center, np.concatenate([w * cos + h * sin, w * sin + h * cos], axis=-1))


def rotation_centers(boxes, one_based: bool) -> np.ndarray:
    """``T x 2`` rotation centres in 0-based pixels: each valid box's centre, else the last valid one.

    Frames before the first valid box take the first valid centre. Raises ``ValueError`` when no box is valid.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    valid = valid_boxes(boxes)
    if not valid.any():
        raise ValueError("Rot protocol: the sequence has no valid ground-truth box to rotate about")
    centers = box_center(np.where(valid[:, None], boxes, 0.0)) - (1.0 if one_based else 0.0)
    last_valid = np.maximum.accumulate(np.where(valid, np.arange(len(boxes)), -1))
    last_valid[last_valid < 0] = np.argmax(valid)
    return centers[last_valid]


def rotation_matrices(centers, angles_deg) -> np.ndarray:
    """``T x 2 x 3`` matrices ``cv2.getRotationMatrix2D(c_t, theta_t, 1.0)``, vectorised."""
    centers = np.asarray(centers, dtype=np.float64).reshape(-1, 2)
    a = np.deg2rad(np.asarray(angles_deg, dtype=np.float64).reshape(-1))
    cos, sin = np.cos(a), np.sin(a)
    cx, cy = centers[:, 0], centers[:, 1]
    return np.stack([np.stack([cos, sin, (1 - cos) * cx - sin * cy], axis=-1),
                     np.stack([-sin, cos, sin * cx + (1 - cos) * cy], axis=-1)], axis=1)


def rotate_polygons(polygons, matrices, offset: float) -> np.ndarray:
    """Polygons (file coordinates, ``offset`` = 1 for 1-based files) mapped point by point by ``matrices``."""
    points = np.asarray(polygons, dtype=np.float64).reshape(len(matrices), 4, 2) - offset
    moved = np.einsum("tij,tkj->tki", matrices[:, :, :2], points) + matrices[:, None, :, 2]
    return (moved + offset).reshape(len(matrices), 8)


class RotatedFrames:
    """The frame loader of a rotated sequence: ``J_t = warpAffine(I_t, M_t)``, bilinear, reflect-101 border.

    A plain class (not a closure) so rotated sequences can be pickled to worker processes.
    """

    def __init__(self, source: Sequence, matrices: np.ndarray, angles: np.ndarray):
        self.source = source
        self.matrices = matrices
        self.angles = angles

    def __call__(self, i: int) -> np.ndarray:
        image = self.source.frame(i)
        if self.angles[i] == 0:
            return image
        h, w = image.shape[:2]
        return cv2.warpAffine(image, self.matrices[i], (w, h), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REFLECT_101)


def rotate_sequence(seq: Sequence, omega: float = DEFAULT_OMEGA) -> Sequence:
    """``seq`` under the Rot protocol: rotated frames (lazily), rotated polygons, envelope boxes and angles.

    Box ground truth becomes the rotated rectangle (polygon) and its envelope; a polygon ground truth is
    rotated point by point and its box is the polygon's bounding box. Invalid boxes stay NaN. Existing
    ``angles`` (e.g. the built-in benchmark's) are added to ``theta_t``. The sequence gains the attribute
    ``IPR`` (in-plane rotation) where ``omega`` is not 0.
    """
    n = len(seq)
    thetas = omega * np.arange(n, dtype=np.float64)
    offset = 1.0 if seq.one_based else 0.0
    if seq.gt is not None:
        boxes = seq.gt[:n]
    else:  # only the first box is public (GOT-10k test): every frame rotates about its centre
        boxes = np.full((n, 4), np.nan)
        boxes[0] = seq.init_box
    if len(boxes) != n:
        raise ValueError(f"Rot protocol: sequence {seq.name} has {n} frames but {len(boxes)} ground-truth boxes")
    centers = rotation_centers(boxes, seq.one_based)
    matrices = rotation_matrices(centers, thetas)
    valid = valid_boxes(boxes)
    if seq.gt is None:
        polygons, gt = None, None
    else:
        if seq.polygons is not None:
            polygons = rotate_polygons(seq.polygons[:n], matrices, offset)
            gt = polygon_to_box(polygons)
        else:
            file_centers = box_center(boxes)
            polygons = rotated_rect_polygon(file_centers, boxes[:, 2:4], thetas)
            gt = envelope_box(file_centers, boxes[:, 2:4], thetas)
        polygons[~valid] = np.nan
        gt[~valid] = np.nan
    angles = thetas if seq.angles is None else np.asarray(seq.angles, dtype=np.float64)[:n] + thetas
    attributes = list(seq.attributes) + (["IPR"] if omega != 0 and "IPR" not in seq.attributes else [])
    return Sequence(name=seq.name, frame_paths=list(seq.frame_paths), gt=gt, attributes=attributes,
                    polygons=polygons, angles=angles, one_based=seq.one_based,
                    init_box=None if gt is not None else np.array(seq.init_box, dtype=np.float64),
                    loader=RotatedFrames(seq, matrices, thetas))


def rotate_dataset(dataset: Dataset, omega: float = DEFAULT_OMEGA) -> Dataset:
    """``dataset`` under the Rot protocol, named ``Rot-<name>`` (``Rot<omega>-<name>`` when omega != 2)."""
    try:
        degrees = float(omega)
    except (TypeError, ValueError):
        degrees = math.nan
    if not math.isfinite(degrees):
        raise ValueError(f"Rot protocol: omega must be a finite number of degrees per frame, got {omega!r}")
    return Dataset(rot_dataset_name(dataset.name, degrees), [rotate_sequence(s, degrees) for s in dataset])
