"""The shipped rotation trackers' weights recover a known turn of a real target.

A photo from scikit-image (installed, so this always runs) is cut by the toolkit's own crop twice about
the target's centre: upright, and turned counter-clockwise by a known angle. Each tracker starts on the
upright frame and takes one update on the turned one; the angle it measures in that frame must lie within
``BOUND`` degrees of the turn. A tracker without a working rotation search reports 0 and fails (every
turn below is larger than the bound)."""
from pathlib import Path

import numpy as np
import pytest
import skimage.data

from ientrack.crop import crop
from ientrack.trackers.registry import build_tracker

SIDE = 401  # the frame: the search region of these targets (about 260-330 px) fits inside
TARGETS = {  # photo, the target's centre (x, y) and size (w, h) in it
    "astronaut_face": ("astronaut", (230, 112), (76, 92)),
    "coffee_spoon": ("coffee", (367, 235), (70, 150)),
    "cat_nose": ("chelsea", (262, 215), (110, 90)),
}
TURNS = [-30.0, -20.0, 20.0, 30.0]  # degrees, counter-clockwise on screen; within every tracker's search window
BOUND = 12.0  # degrees: about half a bank step (ien / re 22.5, canon 30)


ALEXNET_IEN = str(Path(__file__).resolve().parents[1] / "configs" / "ien_siamfc_alexnet.yaml")
# measured misses, each failing the test (strict xfail) once the tracker recovers the turn
KNOWN_MISSES = {("ien_siamfc", "coffee_spoon"): "the IEN-tuned EfficientNet reads the thin spoon's turns of "
                "20-30 degrees as 1-12 (ientrack/zoo/ien_siamfc.md, Known limits)"}


@pytest.fixture(scope="module", params=["ien_siamfc", ALEXNET_IEN, "re_siamfc", "canon_siamfc"])
def tracker(request):
    """The shipped configs and weights (and the AlexNet ien_siamfc of before), the angle taken from each
    frame alone (angle_lr 1: no smoothing)."""
    return build_tracker(request.param, device="cpu", angle_lr=1.0)


def turned_frame(photo: np.ndarray, center, turn: float) -> np.ndarray:
    """A SIDE x SIDE frame centred on ``center`` in which the photo is turned by ``turn`` degrees
    counter-clockwise about that point (``crop`` at ``-turn``; see ``ientrack.crop``)."""
    return crop(photo, center, SIDE, -turn, SIDE)[0]


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_the_angle_measured_after_a_known_turn_is_within_the_bound(tracker, target, request):
    if (tracker.name, target) in KNOWN_MISSES:
        request.applymarker(pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[tracker.name, target]))
    name, center, (w, h) = TARGETS[target]
    photo = getattr(skimage.data, name)()
    c = (SIDE - 1) / 2
    box = np.array([c - (w - 1) / 2, c - (h - 1) / 2, w, h])
    measured = {}
    for turn in TURNS:
        tracker.init(turned_frame(photo, center, 0.0), box)
        measured[turn] = tracker.update(turned_frame(photo, center, turn)).angle
    errors = {turn: abs((angle - turn + 180) % 360 - 180) for turn, angle in measured.items()}
    assert max(errors.values()) <= BOUND, f"{tracker.name} on {target}: true turn -> measured angle {measured}"
