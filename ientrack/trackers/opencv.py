"""OpenCV's classical trackers (MIL, KCF, CSRT) behind the tracker contract.

MIL ships with every OpenCV wheel; KCF and CSRT live in the contrib wheel. Frames arrive RGB and are
converted to BGR here, at the edge. OpenCV reports no confidence: the score is 1 while it tracks and 0
once its update fails, after which the last box is kept.
"""
import ctypes
import sys
from contextlib import contextmanager

import cv2
import numpy as np

from ientrack.trackers.base import Tracker, TrackResult, check_init_box, part_inside

# MIL draws its Haar features from the C library's rand() and its samples from OpenCV's RNG
C_LIBRARY = ctypes.cdll.ucrtbase if sys.platform == "win32" else ctypes.CDLL(None)
RNG_SEED = 0  # as in a fresh process: a sequence gives what it gives when run first
MIN_SIZE = 5  # pixels of the initial box inside the frame, per side: on less, MIL can loop forever

CONTRIB_ONLY = {"kcf", "csrt"}
CONTRIB_HINT = (
    'install the contrib wheel, which replaces the headless one: '
    'pip uninstall -y opencv-python-headless && IENTRACK_OPENCV=contrib pip install -e ".[contrib]"'
)


def opencv_factory(algorithm: str):
    """The constructor of OpenCV's tracker ``algorithm`` (mil, kcf, csrt) in the installed cv2, or a
    clear error saying which wheel provides it."""
    upper = algorithm.upper()
    candidates = [
        getattr(getattr(cv2, f"Tracker{upper}", None), "create", None),
        getattr(cv2, f"Tracker{upper}_create", None),
        getattr(getattr(cv2, "legacy", None), f"Tracker{upper}_create", None),
    ]
    for factory in candidates:
        if factory is not None:
            return factory
    if algorithm.lower() in CONTRIB_ONLY:
        raise RuntimeError(f"OpenCV {cv2.__version__} has no {upper} tracker: {CONTRIB_HINT}")
    raise RuntimeError(f"OpenCV {cv2.__version__} has no tracker named {upper!r}")


def available_algorithms():
    """The OpenCV tracker algorithms this cv2 provides."""
    found = []
    for name in ("mil", "kcf", "csrt"):
        try:
            opencv_factory(name)
            found.append(name)
        except RuntimeError:
            pass
    return found


class OpenCVTracker(Tracker):
    """An OpenCV tracker (``algorithm``: mil, kcf or csrt); boxes are ``(x, y, w, h)`` pixels.

    MIL's features and samples are random: ``init`` reseeds OpenCV's RNG (``cv2.setRNGSeed``) and the C
    library's ``rand()`` to ``RNG_SEED``, and ``init`` and ``update`` run on one OpenCV thread (the worker
    threads of OpenCV's parallel loops keep random generators of their own, which no seed reaches), so a
    sequence gives the same boxes in every run, whatever ran before it. ``device`` is accepted so that
    every tracker takes the same command line; OpenCV runs on the CPU.
    """

    reports_angle = False  # the angle is always 0, the score 1 (tracking) or 0 (lost)
    reports_score = False

    def __init__(self, name: str = None, algorithm: str = "mil", device: str = "cpu"):
        super().__init__(name=name or f"opencv_{algorithm}")
        self.algorithm = algorithm.lower()
        self._factory = opencv_factory(self.algorithm)  # fails here, at construction, when missing
        self._tracker = None

    def init(self, image: np.ndarray, box) -> None:
        """OpenCV's trackers fail on a box that leaves the frame: they start from its part inside, which
        must be at least ``MIN_SIZE`` pixels wide and high (a ``ValueError`` names the box otherwise). A
        smaller target wholly inside the frame (a car seen from a drone) starts from ``MIN_SIZE`` pixels
        about its centre."""
        self.box = check_init_box(box, image.shape, self.name).copy()
        if not np.allclose(part_inside(self.box, image.shape)[2:], self.box[2:]):  # partly outside the frame
            check_init_box(self.box, image.shape, self.name, MIN_SIZE)
        with _one_thread():
            cv2.setRNGSeed(RNG_SEED)
            C_LIBRARY.srand(RNG_SEED)
            self._tracker = self._factory()
            start = at_least(part_inside(self.box, image.shape), MIN_SIZE, image.shape)
            self._tracker.init(cv2.cvtColor(image, cv2.COLOR_RGB2BGR), _int_rect(start))

    def update(self, image: np.ndarray) -> TrackResult:
        if self._tracker is None:
            raise RuntimeError(f"{self.name}: update() before init()")
        with _one_thread():
            ok, rect = self._tracker.update(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        if ok:
            self.box = np.asarray(rect, dtype=np.float64)
        return TrackResult(box=self.box.copy(), angle=0.0, score=1.0 if ok else 0.0)


@contextmanager
def _one_thread():
    """OpenCV on one thread for the block, then as many as before."""
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(threads)


def at_least(box, size: float, image_shape) -> np.ndarray:
    """``box`` (x, y, w, h) grown about its centre to ``size`` pixels per side where smaller, moved to stay
    inside the frame."""
    x, y, w, h = box
    w2, h2 = max(w, size), max(h, size)
    x2 = min(max(x + (w - w2) / 2, 0.0), image_shape[1] - w2)
    y2 = min(max(y + (h - h2) / 2, 0.0), image_shape[0] - h2)
    return np.array([x2, y2, w2, h2])


def _int_rect(box):
    return tuple(int(round(v)) for v in box)
