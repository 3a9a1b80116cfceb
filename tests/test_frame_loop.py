"""One frame loop (ientrack.trackers.base.track_frames) under Tracker.track, the OPE runner and the demo:
the same boxes whichever calls it, frame 0 built one way (the initial box; the runner adds the ground
truth's polygon and angle), and a bad initial box named where it came from."""
import numpy as np
import pytest

from ientrack.data.rot import rotate_sequence
from ientrack.eval.runner import track_sequence
from ientrack.trackers.base import initial_result, track_frames
from test_runner import CentroidTracker, make_fake_otb


@pytest.fixture
def sequence(tmp_path):
    return make_fake_otb(tmp_path)[0]


def test_track_and_the_runner_give_the_same_boxes(sequence):
    boxes, times = CentroidTracker().track(sequence.frame_paths, sequence.init_box)
    results, runner_times = track_sequence(CentroidTracker(), sequence)
    assert np.array_equal(boxes, np.stack([r.box for r in results])) and len(times) == len(runner_times)
    assert np.array_equal(boxes[0], sequence.init_box) and np.isfinite(times).all()


def test_frame_zero_is_the_initial_box_or_the_ground_truth_the_runner_knows(sequence):
    rotated = rotate_sequence(sequence, 4.0)
    results, _ = track_sequence(CentroidTracker(), rotated)
    assert np.array_equal(results[0].polygon, rotated.polygons[0]) and results[0].angle == rotated.angles[0] == 0.0
    plain = next(track_frames(CentroidTracker(), [sequence.frame(0)], sequence.init_box))[2]
    assert vars(plain).keys() == vars(initial_result(sequence.init_box)).keys()
    assert plain.polygon is None and plain.score == 1.0 and np.array_equal(plain.box, sequence.init_box)


def test_a_bad_initial_box_is_named_where_it_came_from(sequence):
    frames = track_frames(CentroidTracker(), [sequence.frame(0)], [500, 500, 10, 10], where="sequence Boy, frame 0")
    with pytest.raises(ValueError, match=r"^sequence Boy, frame 0: the initial box .* lies outside the 64x48 frame"):
        next(frames)
