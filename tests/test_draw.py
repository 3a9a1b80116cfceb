"""What --vis and tools/demo.py draw, read back from the pixels: captions on a filled box that reads on any
frame, a legend of the colours, the ground-truth angle beside the predicted one, and no angle or score for a
tracker that estimates neither (OpenCV's)."""
import numpy as np
import pytest
from test_runner import CentroidTracker, make_fake_otb

from ientrack.eval.runner import run_ope
from ientrack.trackers.base import TrackResult
from ientrack.vis import recorder
from ientrack.vis.draw import GT_COLOR, LABEL_FILL, PRED_COLOR, caption, draw_frame

RESULT = TrackResult(box=np.array([150.0, 10, 40, 30]), angle=18.0, score=0.9)


def fill_width(canvas, row: int = 1) -> int:
    """How far the caption's box reaches along ``row`` from the left edge."""
    is_fill = np.all(canvas[row] == LABEL_FILL, axis=-1)
    return int(np.argmin(is_fill)) if not is_fill.all() else len(is_fill)


@pytest.mark.parametrize("shade", [0, 255])
def test_the_caption_sits_on_a_filled_box_that_reads_on_dark_and_bright_frames(shade):
    frame = np.full((120, 200, 3), shade, np.uint8)
    drawn = draw_frame(frame, 7, RESULT, gt_box=[150, 10, 40, 30])
    other = draw_frame(np.full_like(frame, 255 - shade), 7, RESULT, gt_box=[150, 10, 40, 30])
    width = fill_width(drawn)
    assert width > 100  # "#7  angle +18  score 0.90"
    top = drawn[:12, :width]
    assert np.array_equal(top, other[:12, :width])  # the caption's pixels do not depend on the frame
    assert (top.max(axis=-1) > 200).sum() > 20 and (np.all(top == LABEL_FILL, axis=-1)).mean() > 0.5


def test_a_legend_names_the_colours_drawn():
    frame = np.full((120, 200, 3), 128, np.uint8)
    corner = lambda canvas: canvas[60:, :100].reshape(-1, 3).tolist()  # noqa: E731  (the box is at the top right)
    both = corner(draw_frame(frame, 3, RESULT, gt_box=[150, 10, 40, 30]))
    assert list(GT_COLOR) in both and list(PRED_COLOR) in both and list(LABEL_FILL) in both
    prediction_only = corner(draw_frame(frame, 3, RESULT))
    assert list(PRED_COLOR) in prediction_only and list(GT_COLOR) not in prediction_only


def test_the_ground_truth_angle_stands_beside_the_predicted_one():
    frame = np.zeros((120, 300, 3), np.uint8)
    assert caption(5, RESULT, gt_angle=20.0) == "#5  angle +18 (gt +20)  score 0.90"
    assert fill_width(draw_frame(frame, 5, RESULT, gt_angle=20.0)) > fill_width(draw_frame(frame, 5, RESULT))


class Captured:
    """A VideoSink that keeps the frames it is given."""

    frames = {}

    def __init__(self, path):
        self.path = path
        Captured.frames[path] = []

    def write(self, rgb):
        Captured.frames[self.path].append(rgb)

    def close(self):
        pass


@pytest.mark.parametrize("tracker, draws_angle", [("opencv_mil", False), (CentroidTracker, True)])
def test_videos_draw_angle_and_score_only_for_trackers_that_estimate_them(tmp_path, monkeypatch, tracker, draws_angle):
    monkeypatch.setattr(recorder, "VideoSink", Captured)
    dataset = make_fake_otb(tmp_path / "otb")
    dataset.sequences = dataset.sequences[:1]
    run_ope(tracker, dataset, tmp_path / "results", progress=False,
            vis_fn=recorder.SequenceRecorder(str(tmp_path / "videos")))
    frames = Captured.frames[str(tmp_path / "videos" / "Basketball.mp4")]
    assert len(frames) == len(dataset[0])
    index_only = fill_width(draw_frame(np.zeros_like(frames[3]), 3))
    assert (fill_width(frames[3]) > index_only) == draws_angle
