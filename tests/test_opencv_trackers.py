"""OpenCV baselines through the tracker contract: MIL follows a known translation; missing contrib
trackers fail at construction with the install command; a lost target keeps its box with score 0; an
initial box not in the frame is refused (MIL would loop forever); results do not depend on what ran before."""
import re
import threading

import cv2
import numpy as np
import pytest
from conftest import shared_path
from test_siamfc_tracker import translating_sequence

from ientrack.data.otb import load_otb
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


def otb_sequences(*names, n_frames=15):
    """Real OTB sequences: ``{name: (first n_frames frames, first box)}``."""
    dataset = load_otb(shared_path("otb"), sequences=names)
    return {name: ([dataset[name].frame(i) for i in range(n_frames)], dataset[name].init_box) for name in names}


def init_error(tracker, frame, box, seconds=60.0):
    """The exception ``tracker.init`` raised, run in a daemon thread so that a hang fails the test
    instead of blocking it (OpenCV releases the GIL while MIL spins)."""
    raised = []

    def init():
        try:
            tracker.init(frame, box)
        except Exception as error:  # noqa: BLE001 - handed to the test
            raised.append(error)

    thread = threading.Thread(target=init, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"init hung on the box {box}"
    return raised[0] if raised else None


@pytest.mark.parametrize("box, message", [
    ([1000, 1000, 26, 43], r"initial box \[1000.0, 1000.0, 26.0, 43.0\] lies outside the 352x288 frame"),
    ([349, 10, 26, 43], r"only 3x43 pixels of the initial box \[349.0, 10.0, 26.0, 43.0\] lie inside the 352x288"),
    ([-22, 280, 26, 43], r"only 4x8 pixels .* at least 5x5"),
])
def test_a_box_not_in_the_frame_is_refused_instead_of_hanging(box, message):
    frames, _ = otb_sequences("Football1", n_frames=1)["Football1"]
    error = init_error(build_tracker("opencv_mil"), frames[0], box)
    assert isinstance(error, ValueError) and re.search(message, str(error)), error


def test_a_sequence_gives_the_same_boxes_whatever_ran_before():
    sequences = otb_sequences("Football1", "Biker")
    tracker = build_tracker("opencv_mil")
    first, _ = tracker.track(*sequences["Football1"])
    tracker.track(*sequences["Biker"])
    cv2.randu(np.empty((4, 4)), 0, 1)  # anything else drawing from OpenCV's RNG
    again, _ = tracker.track(*sequences["Football1"])
    np.testing.assert_array_equal(again, first)


def test_a_small_target_wholly_inside_starts_from_min_size_pixels_about_its_centre():
    frames, _ = otb_sequences("Football1", n_frames=2)["Football1"]
    tracker = build_tracker("opencv_mil")
    assert init_error(tracker, frames[0], [100, 100, 4, 4.5]) is None  # a 4 x 4.5 target (drone video has them)
    result = tracker.update(frames[1])
    assert result.box[2] >= 5 and result.box[3] >= 5 and np.hypot(*(result.box[:2] + result.box[2:] / 2 - 102)) < 10

