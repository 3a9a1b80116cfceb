"""The tracker contract, compatible with ``got10k.trackers.Tracker``."""
import time
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ientrack.data.frames import read_frame, to_rgb_uint8
from ientrack.geometry import box_to_polygon


@dataclass
class TrackResult:
    """One frame's estimate: an axis-aligned box ``(x, y, w, h)``, optionally a rotated polygon
    (8 numbers) and the target's angle in degrees relative to frame 0, and a confidence score."""

    box: np.ndarray
    polygon: Optional[np.ndarray] = None
    angle: float = 0.0
    score: float = float("nan")

    def as_polygon(self) -> np.ndarray:
        return self.polygon if self.polygon is not None else box_to_polygon(self.box)


class Tracker:
    """Base class of every tracker: ``init(frame, box)``, ``update(frame) -> TrackResult``,
    ``track(frames, box) -> (boxes, times)`` and a ``name``.

    Frames are RGB ``uint8`` ``H x W x 3`` arrays; ``track`` also accepts file paths, as the GOT-10k
    toolkit passes them. ``is_deterministic`` tells the GOT-10k toolkit whether repeated runs are needed.
    """

    name = "tracker"
    is_deterministic = True

    def __init__(self, name: Optional[str] = None, is_deterministic: bool = True):
        if name is not None:
            self.name = name
        self.is_deterministic = is_deterministic

    def init(self, image: np.ndarray, box) -> None:
        raise NotImplementedError

    def update(self, image: np.ndarray) -> TrackResult:
        raise NotImplementedError

    def track(self, frames, box, visualize: bool = False):
        """Run over ``frames`` (arrays or paths) from ``box``; returns ``(boxes, times)`` like got10k.

        ``self.results`` keeps the full :class:`TrackResult` of every frame (frame 0: the given box).
        """
        self.results, times = [], []
        for _, _, result, seconds in track_frames(self, frames, box):
            self.results.append(result)
            times.append(seconds)
        boxes = np.array([np.asarray(r.box, dtype=np.float64).reshape(4) for r in self.results]).reshape(-1, 4)
        return boxes, np.array(times, dtype=np.float64)


def initial_result(box, polygon=None, angle: float = 0.0) -> TrackResult:
    """Frame 0's result: the initial box (and, where known, the target's polygon and angle), score 1."""
    return TrackResult(box=np.asarray(box, dtype=np.float64).copy(), polygon=polygon, angle=angle, score=1.0)


def track_frames(tracker: Tracker, frames, box, first: Optional[TrackResult] = None, where: str = ""):
    """The one frame loop of the toolkit: ``tracker.init`` on frame 0 from ``box``, ``update`` on every
    later frame. Yields ``(index, image, result, seconds)`` per frame, as the frames arrive (``frames``:
    RGB arrays or file paths, any iterable). Frame 0's result is ``first`` (default: :func:`initial_result`
    of ``box``); ``seconds`` times the tracker's call alone, not the frame's decoding nor the caller's
    work between frames. A box no tracker can start from is a ``ValueError`` prefixed with ``where``."""
    for index, frame in enumerate(frames):
        image = _as_image(frame)
        start = time.perf_counter()
        if index == 0:
            tracker.init(image, check_init_box(box, image.shape, where))
            result = first if first is not None else initial_result(box)
        else:
            result = tracker.update(image)
        yield index, image, result, time.perf_counter() - start


def check_init_box(box, image_shape, where: str = "", min_size: float = 1.0) -> np.ndarray:
    """The initial box as floats, or a ``ValueError`` saying why no tracker can start from it: not 4
    finite numbers, zero or negative size, no overlap with the frame, or less than ``min_size`` pixels of
    it inside the frame in width or height. A box partly outside the frame is allowed (crops pad beyond
    the border)."""
    prefix = f"{where}: " if where else ""
    box = np.asarray(box, dtype=np.float64).reshape(-1)
    if box.size != 4 or not np.isfinite(box).all():
        raise ValueError(f"{prefix}the initial box must be 4 finite numbers (x, y, w, h), got {box.tolist()}")
    x, y, w, h = box
    if w <= 0 or h <= 0:
        raise ValueError(f"{prefix}the initial box has no area: {box.tolist()}")
    height, width = image_shape[:2]
    inside_w, inside_h = part_inside(box, image_shape)[2:]
    if inside_w <= 0 or inside_h <= 0:
        raise ValueError(f"{prefix}the initial box {box.tolist()} lies outside the {width}x{height} frame")
    if inside_w < min_size or inside_h < min_size:
        raise ValueError(f"{prefix}only {inside_w:g}x{inside_h:g} pixels of the initial box {box.tolist()} lie inside "
                         f"the {width}x{height} frame, at least {min_size:g}x{min_size:g} are needed")
    return box


def part_inside(box, image_shape) -> np.ndarray:
    """The part of ``box`` (x, y, w, h) inside a frame of ``image_shape``; a width or height of zero or
    less where the box misses the frame."""
    x, y, w, h = box
    x0, y0 = max(x, 0.0), max(y, 0.0)
    return np.array([x0, y0, min(x + w, image_shape[1]) - x0, min(y + h, image_shape[0]) - y0])


def _as_image(frame) -> np.ndarray:
    if isinstance(frame, (str, bytes)) or hasattr(frame, "__fspath__"):
        return read_frame(str(frame))
    if hasattr(frame, "mode"):  # a PIL image, as got10k's own loop would give
        return to_rgb_uint8(np.asarray(frame.convert("RGB")))
    return to_rgb_uint8(np.asarray(frame))
