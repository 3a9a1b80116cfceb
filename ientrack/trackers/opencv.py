"""OpenCV's classical trackers (MIL, KCF, CSRT) behind the tracker contract.

MIL ships with every OpenCV wheel; KCF and CSRT live in the contrib wheel. Frames arrive RGB and are
converted to BGR here, at the edge. OpenCV reports no confidence: the score is 1 while it tracks and 0
once its update fails, after which the last box is kept.
"""
import cv2
import numpy as np

from ientrack.trackers.base import Tracker, TrackResult

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

    ``device`` is accepted so that every tracker takes the same command line; OpenCV runs on the CPU.
    """

    def __init__(self, name: str = None, algorithm: str = "mil", device: str = "cpu"):
        super().__init__(name=name or f"opencv_{algorithm}")
        self.algorithm = algorithm.lower()
        self._factory = opencv_factory(self.algorithm)  # fails here, at construction, when missing
        self._tracker = None

    def init(self, image: np.ndarray, box) -> None:
        """OpenCV's trackers fail on a box that leaves the frame: they start from its part inside."""
        self.box = np.asarray(box, dtype=np.float64).copy()
        self._tracker = self._factory()
        self._tracker.init(cv2.cvtColor(image, cv2.COLOR_RGB2BGR), _int_rect(_inside(self.box, image.shape)))

    def update(self, image: np.ndarray) -> TrackResult:
        if self._tracker is None:
            raise RuntimeError(f"{self.name}: update() before init()")
        ok, rect = self._tracker.update(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        if ok:
            self.box = np.asarray(rect, dtype=np.float64)
        return TrackResult(box=self.box.copy(), angle=0.0, score=1.0 if ok else 0.0)


def _inside(box, shape):
    """The part of ``box`` inside a frame of ``shape`` (at least 1 x 1 pixel)."""
    x, y, w, h = box
    x0, y0 = min(max(x, 0.0), shape[1] - 1.0), min(max(y, 0.0), shape[0] - 1.0)
    x1, y1 = min(max(x + w, x0 + 1), float(shape[1])), min(max(y + h, y0 + 1), float(shape[0]))
    return np.array([x0, y0, x1 - x0, y1 - y0])


def _int_rect(box):
    x, y, w, h = box
    return int(round(x)), int(round(y)), max(1, int(round(w))), max(1, int(round(h)))
