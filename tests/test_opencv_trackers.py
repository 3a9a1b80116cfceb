"""OpenCV baselines through the tracker contract: MIL follows a known translation; missing contrib
trackers fail at construction with the install command; a lost target keeps its box with score 0."""
import numpy as np
import pytest
from test_siamfc_tracker import translating_sequence

from ientrack.geometry import box_center
from ientrack.trackers import opencv
from ientrack.trackers.opencv import OpenCVTracker, available_algorithms
from ientrack.trackers.registry import build_tracker


def test_mil_follows_a_translating_patch():
    frames, boxes = translating_sequence(n=12, step=(2.0, 1.0))
    tracker = build_tracker("opencv_mil")
    assert tracker.name == "opencv_mil"
    predicted, times = tracker.track(frames, boxes[0])
    error = np.linalg.norm(box_center(predicted) - box_center(boxes), axis=1)
    assert error.max() < 5.0, error
    assert all(r.score == 1.0 for r in tracker.results)


def test_mil_gets_rgb_and_sees_bgr(monkeypatch):
    """The frame handed to OpenCV is the RGB frame with its channels reversed."""
    seen = []

    class Recorder:
        def init(self, image, rect):
            seen.append((image.copy(), rect))

        def update(self, image):
            return False, (0, 0, 1, 1)

    monkeypatch.setattr(opencv, "opencv_factory", lambda algorithm: Recorder)
    tracker = OpenCVTracker(algorithm="mil")
    frame = np.zeros((20, 30, 3), np.uint8)
    frame[..., 0] = 200  # red in RGB
    tracker.init(frame, (3.4, 5.6, 10.2, 7.5))
    image, rect = seen[0]
    assert image[0, 0].tolist() == [0, 0, 200] and rect == (3, 6, 10, 8)
    result = tracker.update(frame)  # OpenCV lost it: the last box stays, score 0
    assert result.box.tolist() == [3.4, 5.6, 10.2, 7.5] and result.score == 0.0


@pytest.mark.parametrize("algorithm", ["kcf", "csrt"])
def test_contrib_trackers_build_or_say_how_to_install(algorithm):
    if algorithm in available_algorithms():
        assert build_tracker(f"opencv_{algorithm}").algorithm == algorithm
    else:
        with pytest.raises(RuntimeError, match=r"pip uninstall -y opencv-python-headless && IENTRACK_OPENCV=contrib pip install"):
            build_tracker(f"opencv_{algorithm}")


def test_update_before_init_is_an_error():
    with pytest.raises(RuntimeError, match="before init"):
        OpenCVTracker(algorithm="mil").update(np.zeros((10, 10, 3), np.uint8))
