"""Box and polygon conventions shared by the whole toolkit (see docs/PROTOCOLS.md).

A box is ``(x, y, w, h)``; its centre is ``(x + (w - 1) / 2, y + (h - 1) / 2)``.
A polygon is 8 numbers ``x1, y1, ..., x4, y4``; its axis-aligned box is its bounding box.
Angles are in degrees, counter-clockwise as displayed (OpenCV's ``getRotationMatrix2D`` sign).
"""
import numpy as np


def box_center(box):
    """Centre of ``(x, y, w, h)`` boxes (any leading shape) in the OTB / GOT-10k convention."""
    box = np.asarray(box, dtype=np.float64)
    return np.stack([box[..., 0] + (box[..., 2] - 1) / 2, box[..., 1] + (box[..., 3] - 1) / 2], axis=-1)


def center_to_box(center, size):
    """Inverse of :func:`box_center`: ``(cx, cy)`` and ``(w, h)`` to ``(x, y, w, h)``."""
    center = np.asarray(center, dtype=np.float64)
    size = np.asarray(size, dtype=np.float64)
    return np.concatenate([center - (size - 1) / 2, size], axis=-1)


def rotated_rect_polygon(center, size, angle_deg):
    """Corners of the rectangle of ``size = (w, h)`` centred at ``center`` and turned by ``angle_deg``.

    The angle is counter-clockwise as displayed (image y points down), matching
    ``cv2.getRotationMatrix2D``. Returns an array ``(..., 8)`` ordered top-left, top-right,
    bottom-right, bottom-left of the unrotated rectangle.
    """
    center = np.asarray(center, dtype=np.float64)
    w, h = np.asarray(size, dtype=np.float64)[..., 0], np.asarray(size, dtype=np.float64)[..., 1]
    a = np.deg2rad(np.asarray(angle_deg, dtype=np.float64))
    cos, sin = np.cos(a), np.sin(a)
    # extents of the rectangle measured between pixel centres, as the box convention does
    dx = np.stack([-(w - 1) / 2, (w - 1) / 2, (w - 1) / 2, -(w - 1) / 2], axis=-1)
    dy = np.stack([-(h - 1) / 2, -(h - 1) / 2, (h - 1) / 2, (h - 1) / 2], axis=-1)
    # counter-clockwise on screen with y down: x' = x cos + y sin, y' = -x sin + y cos
    px = center[..., 0:1] + dx * cos[..., None] + dy * sin[..., None]
    py = center[..., 1:2] - dx * sin[..., None] + dy * cos[..., None]
    return np.stack([px, py], axis=-1).reshape(px.shape[:-1] + (8,))


def exemplar_side(size, context: float) -> float:
    """SiamFC's context window about a target of ``size = (w, h)``: a square of side
    ``sqrt((w + p)(h + p))`` source pixels, ``p = context * (w + h)`` (context 0.5: a margin of a quarter
    of ``w + h`` on every side). The exemplar crop covers it; the search crop covers
    ``instance_size / exemplar_size`` times it."""
    w, h = np.asarray(size, dtype=np.float64)
    pad = context * (w + h)
    return float(np.sqrt((w + pad) * (h + pad)))


def polygon_to_box(polygon):
    """Axis-aligned bounding box ``(x, y, w, h)`` of 8-number polygons (any leading shape)."""
    p = np.asarray(polygon, dtype=np.float64).reshape(np.shape(polygon)[:-1] + (4, 2))
    lo = p.min(axis=-2)
    hi = p.max(axis=-2)
    return np.concatenate([lo, hi - lo + 1], axis=-1)


def box_to_polygon(box):
    """The four corners of axis-aligned boxes as 8-number polygons (angle 0)."""
    box = np.asarray(box, dtype=np.float64)
    return rotated_rect_polygon(box_center(box), box[..., 2:4], np.zeros(box.shape[:-1]))


def valid_boxes(boxes):
    """Mask of boxes that are finite and of positive area (the others are left out of every score)."""
    boxes = np.asarray(boxes, dtype=np.float64)
    return np.isfinite(boxes).all(axis=-1) & (boxes[..., 2] > 0) & (boxes[..., 3] > 0)


def wrap_angle(deg):
    """Wrap angles in degrees to ``(-180, 180]``."""
    deg = np.asarray(deg, dtype=np.float64)
    return 180.0 - np.mod(180.0 - deg, 360.0)
