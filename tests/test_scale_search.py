"""The scale search finds a known zoom of a real target, with one search crop per scale (SiamFC's
``scale_search: crops``) and with the scales on the template side (``templates``: one search crop a frame).

A photo from scikit-image is cut about the target's centre by the toolkit's own crop: at its size, and
zoomed in or out by one scale step. The tracker starts on the first frame and takes one update on the
zoomed one, with the size taken from that frame alone (``scale_lr`` 1): its new scale must be the zoom. A scale search turned the wrong way reads the
inverse zoom and fails."""
import numpy as np
import pytest
import skimage.data

from ientrack.crop import crop
from ientrack.trackers.registry import build_tracker

SIDE = 401
TARGETS = {  # photo, the target's centre (x, y) and size (w, h) in it
    "astronaut_face": ("astronaut", (230, 112), (76, 92)),
    "coffee_cup": ("coffee", (300, 200), (160, 140)),
    "cat_head": ("chelsea", (262, 170), (150, 130)),
}
STEP = 1.15  # a zoom the features tell apart from the current size


@pytest.fixture(scope="module", params=["crops", "templates"])
def tracker(request):
    """effnet_siamfc's pretrained features (siamfc's AlexNet misreads the zoom of the astronaut's face
    with either search), the size taken from the updated frame alone."""
    return build_tracker("effnet_siamfc", device="cpu", backend="torch", scale_search=request.param,
                         scale_step=STEP, scale_lr=1.0, window_influence=0.0)


def zoomed_frame(photo, center, zoom: float) -> np.ndarray:
    """A SIDE x SIDE frame centred on ``center`` showing the photo ``zoom`` times larger."""
    return crop(photo, center, SIDE / zoom, 0.0, SIDE)[0]


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_one_update_reads_a_zoom_of_one_scale_step(tracker, target):
    name, center, (w, h) = TARGETS[target]
    photo = getattr(skimage.data, name)()
    c = (SIDE - 1) / 2
    box = np.array([c - (w - 1) / 2, c - (h - 1) / 2, w, h])
    measured = {}
    for zoom in (1 / STEP, 1.0, STEP):
        tracker.init(zoomed_frame(photo, center, 1.0), box)
        tracker.update(zoomed_frame(photo, center, zoom))
        measured[round(zoom, 3)] = round(tracker.scale, 3)
    assert list(measured.values()) == list(measured), f"{tracker.name} ({tracker.scale_search}): zoom -> scale {measured}"


def test_templates_mode_embeds_the_bank_at_every_scale_and_one_search_crop():
    tracker = build_tracker("siamfc", device="cpu", scale_search="templates", num_rotations=4)
    photo = skimage.data.astronaut()
    tracker.init(zoomed_frame(photo, (230, 112), 1.0), np.array([162, 154, 76, 92]))
    assert tracker.bank.shape[0] == 3 * 4 and len(tracker.search_sides()) == 1


def test_an_unknown_scale_search_is_refused():
    with pytest.raises(ValueError, match="scale_search must be crops or templates"):
        build_tracker("siamfc", device="cpu", scale_search="pyramid")
