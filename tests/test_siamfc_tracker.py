"""SiamFC's machinery: feature alignment, peak at the centre, and exact tracking of a known motion
with a fixed, train-free feature extractor injected through ``backbone=``."""
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from ientrack.checkpoint import save_checkpoint
from ientrack.geometry import box_center, box_to_polygon, wrap_angle
from ientrack.models.registry import build_backbone
from ientrack.models.siamese import SiameseNet
from ientrack.trackers.registry import build_tracker
from ientrack.trackers.siamfc import SiamFCTracker
from ientrack.trackers.search import cosine_window, locate_peak


class BandPassPixels(nn.Module):
    """Raw pixels through a difference of Gaussians, then 8x8 mean pooling: zero-mean, shift-equivariant
    features with total stride 8 (127 -> 11x11, 255 -> 27x27, a 17x17 response)."""

    total_stride = 8

    def __init__(self, k=33):
        super().__init__()
        x = np.arange(k) - k // 2
        g = lambda s: np.exp(-(x[:, None] ** 2 + x[None] ** 2) / (2 * s * s)) / (2 * np.pi * s * s)
        dog = torch.tensor(g(2.0) - g(8.0), dtype=torch.float32)
        self.register_buffer("weight", dog.expand(3, 1, k, k).contiguous())

    def forward(self, x):
        return F.avg_pool2d(F.conv2d(x / 255.0, self.weight, groups=3), 8)


def _texture(shape, seed, contrast):
    """Smooth noise (blobs of a few pixels) with the given standard deviation about grey 128."""
    noise = cv2.GaussianBlur(np.random.default_rng(seed).normal(0, 1, shape).astype(np.float32), (0, 0), 3.0)
    return np.clip(128 + noise * contrast / noise.std(), 0, 255).astype(np.uint8)


def translating_sequence(n=10, step=(3.0, -2.0), size=(40, 30)):
    """A textured patch moving by exactly ``step`` pixels a frame over a fainter texture; returns
    frames and the exact boxes (0-based)."""
    background = _texture((240, 320, 3), seed=1, contrast=20)
    target = _texture((size[1], size[0], 3), seed=2, contrast=60)
    frames, boxes = [], []
    for t in range(n):
        x, y = 100 + step[0] * t, 120 + step[1] * t
        m = np.float32([[1, 0, x], [0, 1, y]])  # sub-pixel paste: warp the patch and its mask
        patch = cv2.warpAffine(target, m, (320, 240))
        mask = cv2.warpAffine(np.ones(target.shape[:2], np.float32), m, (320, 240))[:, :, None]
        frames.append((patch * mask + background * (1 - mask)).astype(np.uint8))
        boxes.append((x, y, size[0], size[1]))
    return frames, np.array(boxes)


@pytest.mark.parametrize("crop_backend", ["cv2", "torch"])  # torch: the GPU path, run on the CPU
def test_fixed_features_track_a_known_translation_within_two_pixels(crop_backend):
    frames, boxes = translating_sequence()
    tracker = SiamFCTracker(backbone=BandPassPixels(), device="cpu", crop_backend=crop_backend)
    predicted, times = tracker.track(frames, boxes[0])
    error = np.linalg.norm(box_center(predicted) - box_center(boxes), axis=1)
    assert error.max() < 2.0, error
    assert np.allclose(predicted[:, 2:] / boxes[:, 2:], 1.0, atol=0.08)  # the size holds
    for r in tracker.results[1:]:  # one template, angle 0: the polygon is the box
        assert r.angle == 0.0 and np.allclose(r.polygon, box_to_polygon(r.box)) and 0.5 < r.score <= 1.0
    assert len(times) == len(frames)


@pytest.mark.parametrize("crop_backend", ["cv2", "torch"])
def test_init_and_update_take_a_reversed_channel_view(crop_backend):
    """``bgr[..., ::-1]`` (a view with a negative stride, the usual BGR -> RGB) given to init / update
    directly: the GPU crop path refused it (torch.from_numpy takes no negative strides); same boxes as a copy."""
    frames, boxes = translating_sequence(n=3)
    tracked = []
    for as_given in (lambda f: np.ascontiguousarray(f[..., ::-1])[..., ::-1], np.ascontiguousarray):
        tracker = SiamFCTracker(backbone=BandPassPixels(), device="cpu", crop_backend=crop_backend)
        tracker.init(as_given(frames[0]), boxes[0])
        tracked.append([tracker.update(as_given(f)).box for f in frames[1:]])
    assert np.array_equal(tracked[0], tracked[1])


def test_full_window_influence_pins_the_centre():
    """Window influence 1 ignores the response: the centre cannot move (a check that the window is applied)."""
    frames, boxes = translating_sequence(n=4)
    tracker = SiamFCTracker(backbone=BandPassPixels(), device="cpu", window_influence=1.0)
    predicted, _ = tracker.track(frames, boxes[0])
    assert np.allclose(box_center(predicted), box_center(boxes[0]), atol=0.6)


def test_template_features_are_the_centre_of_the_search_features_and_peak_there():
    torch.manual_seed(0)
    frames, boxes = translating_sequence(n=1)
    tracker = SiamFCTracker(backbone=build_backbone("alexnet"), device="cpu")
    tracker.init(frames[0], boxes[0])
    search = tracker._patches(frames[0], tracker.base_x, 0.0, tracker.instance_size)
    features = tracker.backbone(search)
    assert tracker.bank.shape == (1, 256, 6, 6) and features.shape == (1, 256, 22, 22)
    # the exemplar is the central 127 pixels of the 255 search crop, 64 = 8 cells of stride 8 in
    assert torch.allclose(features[0, :, 8:14, 8:14], tracker.bank[0], rtol=1e-3, atol=1e-3 * tracker.bank.abs().max())
    fixed = SiamFCTracker(backbone=BandPassPixels(), device="cpu")
    fixed.init(frames[0], boxes[0])
    response = fixed.head.against_bank(fixed.bank, fixed.backbone(fixed._patches(frames[0], fixed.base_x, 0.0, 255)))
    assert response.shape == (1, 1, 17, 17)
    assert np.unravel_index(int(response.argmax()), (17, 17)) == (8, 8)


def test_a_rotation_bank_recovers_the_target_angle():
    """A bank of 8 rotations over a target turned by 45 degrees: the tracker reports 45 and a turned polygon."""
    frames, boxes = translating_sequence(n=1, size=(48, 48))
    center = box_center(boxes[0])
    turned = cv2.warpAffine(frames[0], cv2.getRotationMatrix2D(tuple(center), 45.0, 1.0), frames[0].shape[1::-1])
    tracker = SiamFCTracker(backbone=BandPassPixels(), device="cpu", num_rotations=8, angle_window=180.0)
    assert np.allclose(tracker.template_angles, np.arange(8) * 45.0)
    tracker.init(frames[0], boxes[0])
    result = tracker.update(turned)
    assert result.angle == pytest.approx(45.0)
    assert np.linalg.norm(box_center(result.box) - center) < 2.0
    top_edge = result.polygon[2:4] - result.polygon[0:2]  # top-left to top-right, turned 45 deg CCW on screen
    assert np.allclose(top_edge, 47 * tracker.scale * np.array([1, -1]) / np.sqrt(2))


def test_the_rotation_penalty_holds_the_angle_unless_a_turn_is_clearly_better():
    """The 45-degree turn of the test above: found without a penalty, kept at 0 under a prohibitive one."""
    frames, boxes = translating_sequence(n=1, size=(48, 48))
    center = box_center(boxes[0])
    turned = cv2.warpAffine(frames[0], cv2.getRotationMatrix2D(tuple(center), 45.0, 1.0), frames[0].shape[1::-1])
    angles = {}
    for penalty in (1.0, 0.97, 0.01):
        tracker = SiamFCTracker(backbone=BandPassPixels(), device="cpu", num_rotations=8, rotation_penalty=penalty)
        tracker.init(frames[0], boxes[0])
        angles[penalty] = tracker.update(turned).angle
    assert angles == {1.0: 45.0, 0.97: 45.0, 0.01: 0.0}
    tracker.angle = 10.0  # the penalty counts bank steps from the entry nearest the current angle
    steps = tracker._rotation_penalties(np.array([0, 1, 7, 4])).numpy()
    assert np.allclose(steps, [1.0, 0.01, 0.01, 0.01 ** 4])


def test_angle_window_restricts_the_rotations_searched():
    tracker = SiamFCTracker(backbone=BandPassPixels(), device="cpu", num_rotations=8, angle_window=50.0)
    tracker.angle = 160.0
    assert sorted(tracker.template_angles[tracker._candidate_rotations()]) == [135.0, 180.0]
    tracker.angle = -170.0  # wraps: 180 is 10 degrees away, 225 (= -135) is 35
    assert sorted(tracker.template_angles[tracker._candidate_rotations()]) == [180.0, 225.0]
    tracker.angle_window = 5.0  # nothing inside: the nearest one
    assert sorted(tracker.template_angles[tracker._candidate_rotations()]) == [180.0]


def test_missing_weights_name_the_file_and_the_training_command(tmp_path):
    missing = tmp_path / "siamfc.pt"
    with pytest.raises(FileNotFoundError, match=r"siamfc\.pt.*python tools/train\.py --tracker siamfc"):
        SiamFCTracker(weights=str(missing), device="cpu")
    with pytest.warns(UserWarning, match="random weights"):
        SiamFCTracker(weights=str(missing), device="cpu", allow_random_weights=True)


def test_init_on_a_box_outside_the_frame_is_refused_by_the_tracker_itself():
    tracker = SiamFCTracker(backbone=BandPassPixels(), device="cpu")
    with pytest.raises(ValueError, match=r"the initial box \[400.0, 10.0, 20.0, 20.0\] lies outside the 352x288 frame"):
        tracker.init(np.zeros((288, 352, 3), np.uint8), [400, 10, 20, 20])


def test_weights_of_another_architecture_name_the_file_and_the_first_mismatch():
    other = Path(__file__).resolve().parents[1] / "ientrack" / "zoo" / "re_siamfc.pt"  # 64 conv1 channels, not 96
    with pytest.raises(ValueError, match=r"re_siamfc\.pt: weights do not fit the backbone: size mismatch for features\.0"):
        SiamFCTracker(weights=str(other), device="cpu")


def test_weights_load_from_a_siamese_checkpoint_through_the_registry(tmp_path):
    torch.manual_seed(1)
    net = SiameseNet(build_backbone("alexnet"))
    path = tmp_path / "siamfc.pt"
    save_checkpoint(path, net.state_dict(), {"backbone": "alexnet"})
    tracker = build_tracker("siamfc", weights=str(path), device="cpu")
    assert tracker.name == "siamfc"
    conv1 = tracker.backbone.features[0].weight
    bn = net.backbone.features[1]
    expected = net.backbone.features[0].weight * (bn.weight / torch.sqrt(bn.running_var + bn.eps)).reshape(-1, 1, 1, 1)
    assert torch.allclose(conv1, expected, atol=1e-6)  # loaded, then conv-BN fused


def test_crop_sizes_are_checked_against_exact_subsampling():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SiamFCTracker(backbone=build_backbone("alexnet"), device="cpu")
    with pytest.warns(UserWarning, match=r"\[128, 256\] are not subsampled exactly"):
        SiamFCTracker(backbone=build_backbone("alexnet"), device="cpu", exemplar_size=128, instance_size=256)
    own_rule = BandPassPixels()
    own_rule.exact_input = lambda size: size != 255  # a backbone's own rule wins over the layer walk
    with pytest.warns(UserWarning, match=r"\[255\] are not subsampled exactly by BandPassPixels"):
        SiamFCTracker(backbone=own_rule, device="cpu")


def test_at_peak_takes_the_position_from_the_current_angle_and_the_rotation_from_that_place():
    """Responses of three candidates (337.5, 0, 22.5 degrees) with the current angle 0: the upright entry
    peaks at the centre, where the 22.5 entry responds more; the 337.5 entry responds most of all, on
    another object. ``joint`` jumps to that object; ``at_peak`` stays and reports 22.5."""
    tracker = SiamFCTracker(backbone=BandPassPixels(), device="cpu", num_rotations=16, angle_window=22.5,
                            rotation_search="at_peak", window_influence=0.0)
    tracker.angle = 0.0
    candidates = tracker._candidate_rotations()
    assert tracker.template_angles[candidates].tolist() == [0.0, 22.5, 337.5]
    responses = torch.zeros(3, 3, 17, 17)
    responses[1, 0, 8, 8], responses[1, 1, 8, 8], responses[1, 2, 2, 2] = 1.0, 2.0, 5.0
    tracker._window = cosine_window(17 * 16)
    peak = tracker._peak_then_rotation(responses, candidates)
    assert (peak.scale, peak.rotation) == (1, 1)
    assert np.abs(peak.displacement).max() < 1.0
    joint = locate_peak(responses, tracker.penalties, tracker._window, 0.0, 16, 8)
    assert (joint.rotation, np.round(joint.displacement / 8).tolist()) == (2, [-6.0, -6.0])


@pytest.mark.parametrize("penalty, expected", [(1.0, 22.5), (0.95, 0.0)])
def test_at_peak_keeps_the_current_angle_unless_a_turn_beats_it_by_the_rotation_penalty(penalty, expected):
    """At the peak the 22.5 entry responds 4% more than the upright one: a turn without a penalty, kept
    at 0 under a 5% penalty per bank step."""
    tracker = SiamFCTracker(backbone=BandPassPixels(), device="cpu", num_rotations=16, angle_window=22.5,
                            rotation_search="at_peak", rotation_penalty=penalty, window_influence=0.0)
    tracker.angle = 0.0
    candidates = tracker._candidate_rotations()
    responses = torch.zeros(3, 3, 17, 17)
    responses[1, 0, 8, 8], responses[1, 1, 8, 8] = 1.0, 1.04
    tracker._window = cosine_window(17 * 16)
    peak = tracker._peak_then_rotation(responses, candidates)
    assert tracker.template_angles[candidates[peak.rotation]] == expected


def test_at_peak_follows_a_15_degree_turn_to_the_nearest_bank_entry_at_its_place():
    """A turn the upright template still finds (15 degrees; at 45 these band-pass features lose it, so a
    turn between two frames must stay within what the current template tolerates)."""
    frames, boxes = translating_sequence(n=1, size=(48, 48))
    center = box_center(boxes[0])
    turned = cv2.warpAffine(frames[0], cv2.getRotationMatrix2D(tuple(center), 15.0, 1.0), frames[0].shape[1::-1])
    tracker = SiamFCTracker(backbone=BandPassPixels(), device="cpu", num_rotations=16, angle_window=22.5,
                            rotation_search="at_peak")
    tracker.init(frames[0], boxes[0])
    result = tracker.update(turned)
    assert result.angle == pytest.approx(22.5)
    assert np.linalg.norm(box_center(result.box) - center) < 2.0


def _at_peak_scores(tracker, scores):
    """``_peak_then_rotation`` on maps that are flat but for each candidate's ``scores`` at the centre."""
    candidates = tracker._candidate_rotations()
    responses = torch.zeros(3, len(candidates), 17, 17)
    responses[1, :, 8, 8] = torch.as_tensor(scores, dtype=torch.float32)
    tracker._window = cosine_window(17 * 16)
    return candidates, tracker._peak_then_rotation(responses, candidates)


@pytest.mark.parametrize("current, true_angle", [(0.0, 5.0), (0.0, -8.0), (340.0, -30.0)])
def test_angle_interpolation_reads_the_vertex_of_the_parabola_through_the_neighbours(current, true_angle):
    """Responses falling off as a parabola around ``true_angle``: the best entry plus the offset lands on
    it, across the 0 / 360 seam too."""
    tracker = SiamFCTracker(backbone=BandPassPixels(), device="cpu", num_rotations=16, angle_window=45.0,
                            rotation_search="at_peak", angle_interpolation=True, window_influence=0.0)
    tracker.angle = current
    angles = wrap_angle(tracker.template_angles[tracker._candidate_rotations()])
    candidates, peak = _at_peak_scores(tracker, 10.0 - ((angles - true_angle) / 22.5) ** 2)
    measured = tracker.template_angles[candidates[peak.rotation]] + peak.rotation_offset
    assert wrap_angle(measured) == pytest.approx(true_angle, abs=1e-3)


def test_angle_interpolation_stays_on_the_entry_at_the_window_edge_and_is_off_by_default():
    tracker = SiamFCTracker(backbone=BandPassPixels(), device="cpu", num_rotations=16, angle_window=22.5,
                            rotation_search="at_peak", angle_interpolation=True, window_influence=0.0)
    tracker.angle = 0.0  # candidates 0, 22.5, 337.5
    _, peak = _at_peak_scores(tracker, [1.0, 2.0, 0.0])  # best at 22.5, whose right neighbour is not searched
    assert (peak.rotation, peak.rotation_offset) == (1, 0.0)
    _, peak = _at_peak_scores(tracker, [2.0, 2.0 - 1e-6, -50.0])  # nearly a tie: half way to the neighbour
    assert (peak.rotation, peak.rotation_offset) == (0, pytest.approx(11.25, abs=1e-3))
    tracker.angle_interpolation = False
    _, peak = _at_peak_scores(tracker, [2.0, 1.5, 1.0])
    assert (peak.rotation, peak.rotation_offset) == (0, 0.0)


@pytest.mark.parametrize("normalized, expected", [(False, 1), (True, 0)])
def test_normalized_rotation_scores_divide_each_response_by_its_template_norm(normalized, expected):
    """At the peak the 22.5 entry responds 2.4 against 2.0, with features 1.5 times as large: raw, it
    wins; normalised (1.6 against 2.0), the upright entry does."""
    tracker = SiamFCTracker(backbone=BandPassPixels(), device="cpu", num_rotations=16, angle_window=22.5,
                            rotation_search="at_peak", normalized_rotation_scores=normalized, window_influence=0.0)
    tracker.angle = 0.0  # candidates 0, 22.5, 337.5
    tracker.bank_norms = torch.ones(16)
    tracker.bank_norms[1] = 1.5
    _, peak = _at_peak_scores(tracker, [2.0, 2.4, 0.0])
    assert peak.rotation == expected


def test_an_unknown_rotation_search_is_refused():
    with pytest.raises(ValueError, match="rotation_search"):
        SiamFCTracker(backbone=BandPassPixels(), device="cpu", rotation_search="best")
    for option in ("angle_interpolation", "normalized_rotation_scores"):
        with pytest.raises(ValueError, match="read the rotation at the peak: they need rotation_search: at_peak"):
            SiamFCTracker(backbone=BandPassPixels(), device="cpu", **{option: True})


def test_bank_responses_prefer_the_entry_of_the_turn_at_the_true_position_and_leave_the_state():
    frames, boxes = translating_sequence(n=1, size=(48, 48))
    center = box_center(boxes[0])
    turned = cv2.warpAffine(frames[0], cv2.getRotationMatrix2D(tuple(center), 45.0, 1.0), frames[0].shape[1::-1])
    tracker = SiamFCTracker(backbone=BandPassPixels(), device="cpu", num_rotations=8)
    tracker.init(frames[0], boxes[0])
    tracker.center = center + 30.0  # wherever the tracker is, the responses are taken where asked
    responses = tracker.bank_responses(turned, center)
    assert responses.shape == (8,) and tracker.template_angles[int(np.argmax(responses))] == 45.0
    assert np.allclose(tracker.center, center + 30.0)
