"""canon_siamfc: the shipped C4 canonicalizer (search form, equivariant by construction) turns the
template bank by the target's rotation, so a target turned by 90 degrees is found and its angle reported."""
import cv2
import numpy as np
import pytest
import skimage.data

from ientrack.geometry import box_center
from ientrack.trackers.registry import build_tracker


@pytest.fixture(scope="module")
def tracker():
    return build_tracker("canon_siamfc", device="cpu")


def centred_scene(size=241, target=64):
    """A square photo with a target box at its exact centre, so that np.rot90 turns the target in place."""
    frame = cv2.resize(skimage.data.astronaut(), (size, size), interpolation=cv2.INTER_AREA)
    c = (size - 1) / 2
    return frame, np.array([c - (target - 1) / 2, c - (target - 1) / 2, target, target])


def test_the_bank_has_one_template_per_c4_element(tracker):
    assert np.allclose(tracker.template_angles, [0, 90, 180, 270])


@pytest.mark.parametrize("quarters", [0, 1, 2, 3])
def test_a_target_turned_by_quarter_turns_is_found_at_its_angle(tracker, quarters):
    frame, box = centred_scene()
    tracker.init(frame, box)
    turned = np.ascontiguousarray(np.rot90(frame, quarters))  # counter-clockwise on screen
    result = tracker.update(turned)
    assert result.angle % 360 == pytest.approx(90.0 * quarters)
    assert np.linalg.norm(box_center(result.box) - box_center(box)) < 4.0
