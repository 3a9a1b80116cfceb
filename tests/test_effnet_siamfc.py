"""effnet_siamfc: EfficientNet-Lite0's pretrained stride-8 features behind SiamFC, with its trained adjust layer
and without any head (the ImageNet features as they are)."""
import numpy as np
import pytest
import torch
from test_siamfc_tracker import translating_sequence

from ientrack.geometry import box_center
from ientrack.models.effnet_backbone import EffNetLite0Stride8
from ientrack.models.efficientnet_lite import SameConv2d, efficientnet_lite0
from ientrack.models.registry import build_backbone
from ientrack.trackers.registry import build_tracker


@pytest.fixture(scope="module")
def pretrained():
    return build_backbone("effnet_lite0_s8")


def test_exact_sizes_are_8k_plus_1_and_the_response_is_17(pretrained):
    assert [s for s in range(100, 300) if pretrained.exact_input(s)] == list(range(105, 300, 8))
    assert pretrained.exact_input(129) and pretrained.exact_input(257) and not pretrained.exact_input(127)
    with torch.no_grad():
        z, x = pretrained(torch.zeros(1, 3, 129, 129)), pretrained(torch.zeros(1, 3, 257, 257))
    assert z.shape == (1, 40, 9, 9) and x.shape == (1, 40, 25, 25)  # 17 and 33 less a border of 4: 17x17 response


def test_the_exactness_rule_is_what_mirror_symmetric_kernels_see():
    """With every kernel mirror-symmetric, the net commutes with left-right flips exactly where the
    TF-"same" padding is symmetric: at 129, not at 127."""
    torch.manual_seed(0)
    net = EffNetLite0Stride8(pretrained=False, border=0)
    with torch.no_grad():
        for conv in [m for m in net.modules() if isinstance(m, SameConv2d)]:
            conv.weight.copy_((conv.weight + conv.weight.flip(-1)) / 2)

    def flip_error(size):
        x = torch.rand(1, 3, size, size) * 255
        with torch.no_grad():
            expected = net(x).flip(-1)
            return float((net(x.flip(-1)) - expected).norm() / expected.norm())

    assert flip_error(129) < 1e-5 and flip_error(127) > 1e-2


NO_HEAD = {"backbone_args": {"border": 4}, "weights": ""}  # the trunk's features alone: no adjust layer, no weights


def track_errors(frames, boxes, **overrides):
    tracker = build_tracker("effnet_siamfc", device="cpu", crop_backend="cv2", **overrides)
    predicted, _ = tracker.track(frames, boxes[0])
    return np.linalg.norm(box_center(predicted) - box_center(boxes), axis=1), predicted


@pytest.mark.parametrize("overrides", [NO_HEAD, {}], ids=["features alone", "shipped head"])
def test_pretrained_features_track_a_translating_patch_with_and_without_the_head(overrides):
    frames, boxes = translating_sequence(n=5, step=(6.0, 4.0))
    errors, predicted = track_errors(frames, boxes, **overrides)
    assert errors.max() < 2.0, errors
    assert np.allclose(predicted[:, 2:] / boxes[:, 2:], 1.0, atol=0.08)


def test_without_the_border_cut_the_padding_pulls_the_peak_away():
    frames, boxes = translating_sequence(n=3, step=(6.0, 4.0))
    errors, _ = track_errors(frames, boxes, **dict(NO_HEAD, backbone_args={"border": 0}))
    assert errors[-1] > 20, errors


def test_deep_features_are_the_next_stage_on_the_stride_8_grid_and_need_16k_plus_1():
    deep = EffNetLite0Stride8(deep=0.5, border=0)
    assert [s for s in range(100, 300) if deep.exact_input(s)] == list(range(113, 300, 16))
    x = torch.rand(1, 3, 129, 129) * 255
    with torch.no_grad():
        y = deep(x)
        stride8 = build_backbone("effnet_lite0_s8", border=0)(x)
        reference16 = efficientnet_lite0().trunk(stride=16)(x)  # the ImageNet network's own stride-16 output
    assert y.shape == (1, 152, 17, 17) and reference16.shape == (1, 112, 9, 9)
    assert torch.equal(y[:, :40], stride8)
    # corners aligned: every second stride-8 cell is a stride-16 cell, the ones between are midpoints
    assert torch.allclose(y[:, 40:, ::2, ::2], 0.5 * reference16, atol=1e-5)
    assert torch.allclose(y[:, 40:, 1::2, ::2], 0.25 * (reference16[..., 1:, :] + reference16[..., :-1, :]), atol=1e-5)
    assert deep.frozen == ("trunk.", "deeper.") and not any(p.requires_grad for p in deep.deeper.parameters())
    with pytest.raises(ValueError, match="deep must be >= 0"):
        EffNetLite0Stride8(pretrained=False, deep=-1)


def test_deep_features_track_a_translating_patch():
    frames, boxes = translating_sequence(n=5, step=(6.0, 4.0))
    errors, predicted = track_errors(frames, boxes, **dict(NO_HEAD, backbone_args={"deep": 0.7}))
    assert errors.max() < 2.0, errors
