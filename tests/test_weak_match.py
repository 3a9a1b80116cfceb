"""A SiamFC tracker's score is its peak over the first frame's, and ``hold_below`` keeps the state through a
weak match.

The target is the astronaut's face in a scikit-image photo. The tracker starts on the frame, updates on the
same frame (the score must be 1), on the frame with the face painted over with the frame's mean colour (an
occlusion: the score must fall), then on the frame shifted 12 px to the right (the face back: the score
near 1 again and the centre on the face)."""
import numpy as np
import pytest
import skimage.data

from ientrack.crop import crop
from ientrack.trackers.registry import build_tracker

SIDE, SHIFT = 401, 12
CENTER, SIZE = (230, 112), (76, 92)  # the face's centre (x, y) and size (w, h) in the photo


@pytest.fixture(scope="module")
def frames():
    """The frame, the frame with the face painted over, the frame shifted by SHIFT px, and the face's box."""
    frame = crop(skimage.data.astronaut(), CENTER, SIDE, 0.0, SIDE)[0]
    c, (w, h) = (SIDE - 1) / 2, SIZE
    occluded = frame.copy()
    y0, x0 = int(c - h / 2), int(c - w / 2)
    occluded[y0:y0 + h, x0:x0 + w] = frame.reshape(-1, 3).mean(axis=0).astype(np.uint8)
    shifted = np.roll(frame, SHIFT, axis=1)
    return frame, occluded, shifted, np.array([c - (w - 1) / 2, c - (h - 1) / 2, w, h])


@pytest.mark.parametrize("name", ["siamfc", "effnet_siamfc"])
def test_the_score_is_one_on_the_first_frame_on_any_backbone(frames, name):
    frame, _, _, box = frames
    tracker = build_tracker(name, device="cpu", backend="torch")
    tracker.init(frame, box)
    assert tracker.update(frame).score == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("hold_below", [0.0, 0.5])
def test_an_occluded_target_lowers_the_score_and_holds_the_state(frames, hold_below):
    frame, occluded, shifted, box = frames
    tracker = build_tracker("effnet_siamfc", device="cpu", backend="torch", hold_below=hold_below)
    tracker.init(frame, box)
    tracker.update(frame)
    before = (tracker.center.copy(), tracker.scale, tracker.angle)
    score = tracker.update(occluded).score
    assert score < 0.3
    held = np.array_equal(tracker.center, before[0]) and (tracker.scale, tracker.angle) == before[1:]
    assert held == (hold_below > 0), f"hold_below {hold_below}: centre {before[0]} -> {tracker.center}"
    back = tracker.update(shifted)
    assert back.score > 0.9
    np.testing.assert_allclose(tracker.center[0], (SIDE - 1) / 2 + SHIFT, atol=2)


def test_hold_below_must_lie_in_zero_one():
    with pytest.raises(ValueError, match="hold_below must lie in"):
        build_tracker("siamfc", device="cpu", hold_below=1.0)
