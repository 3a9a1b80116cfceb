"""Metrics: equal to the GOT-10k toolkit's own formulas, known answers, and the protocol's edge rules."""
import numpy as np
import pytest
from got10k.experiments import ExperimentOTB
from got10k.utils.metrics import center_error as got10k_center_error
from got10k.utils.metrics import rect_iou
from hypothesis import example, given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon

from ientrack.eval.iou import box_iou, polygon_iou
from ientrack.eval.metrics import (average_metrics, center_error, normalized_center_error,
                                   orientation_error, sequence_metrics)
from ientrack.geometry import rotated_rect_polygon


def random_boxes(rng, n):
    xy = rng.uniform(-20, 100, size=(n, 2))
    wh = rng.uniform(0.5, 60, size=(n, 2))
    return np.concatenate([xy, wh], axis=1)


def got10k_curves(ious, errors):
    """The toolkit's own curve code (ExperimentOTB._calc_curves), without building an experiment."""
    experiment = object.__new__(ExperimentOTB)
    experiment.nbins_iou, experiment.nbins_ce = 21, 51
    return experiment._calc_curves(ious, errors)


def test_box_iou_and_centre_error_equal_the_toolkit():
    rng = np.random.default_rng(0)
    gt = random_boxes(rng, 500)
    pred = gt + rng.normal(0, 8, size=gt.shape)
    pred[:, 2:] = np.abs(pred[:, 2:]) + 0.1
    pred[:50] = random_boxes(rng, 50)  # many without overlap
    assert np.abs(box_iou(pred, gt) - rect_iou(pred.copy(), gt.copy())).max() < 1e-12
    assert np.abs(center_error(pred, gt) - got10k_center_error(pred, gt)).max() < 1e-12


def test_sequence_curves_equal_the_toolkit_on_valid_ground_truth():
    rng = np.random.default_rng(1)
    gt = random_boxes(rng, 300)
    pred = gt + rng.normal(0, 6, size=gt.shape)
    pred[:, 2:] = np.abs(pred[:, 2:]) + 0.1
    ours = sequence_metrics(gt, pred)
    pred[0] = gt[0]
    succ, prec = got10k_curves(rect_iou(pred.copy(), gt.copy()), got10k_center_error(pred, gt))
    assert np.abs(ours["success_curve"] - succ).max() < 1e-12
    assert np.abs(ours["precision_curve"] - prec).max() < 1e-12
    assert ours["success_auc"] == pytest.approx(np.mean(succ), abs=1e-12)
    assert ours["precision_20"] == pytest.approx(prec[20], abs=1e-12)


def test_perfect_tracker_scores_20_over_21_exactly():
    gt = random_boxes(np.random.default_rng(2), 40)
    m = sequence_metrics(gt, gt.copy())
    assert m["success_auc"] == 20 / 21
    assert m["precision_20"] == 1.0 and m["norm_precision_20"] == 1.0
    assert m["success_curve"][-1] == 0.0  # IoU 1 is not > 1


def test_frame_zero_is_set_to_ground_truth():
    gt = np.array([[10, 10, 20, 20], [12, 10, 20, 20]], float)
    pred = np.array([[500, 500, 1, 1], [12, 10, 20, 20]], float)
    assert sequence_metrics(gt, pred)["success_auc"] == 20 / 21


def test_invalid_ground_truth_frames_are_left_out_of_every_score():
    rng = np.random.default_rng(3)
    gt = random_boxes(rng, 12)
    polygons = rotated_rect_polygon(gt[:, :2] + gt[:, 2:] / 2, gt[:, 2:], np.full(12, 30.0))
    angles = np.linspace(0, 40, 12)
    pred = gt + rng.normal(0, 3, size=gt.shape)
    full = sequence_metrics(gt, pred, polygons, None, angles, angles + 10)
    bad_gt, bad_pred = gt.copy(), pred.copy()
    bad_gt = np.insert(bad_gt, [4, 7, 9], [[np.nan] * 4, [5, 5, 0, 10], [3, 3, 10, -2]], axis=0)
    bad_pred = np.insert(bad_pred, [4, 7, 9], [[0, 0, 1, 1]] * 3, axis=0)
    bad_poly = np.insert(polygons, [4, 7, 9], [[0] * 8] * 3, axis=0)
    bad_angles = np.insert(angles, [4, 7, 9], [0.0] * 3)
    with_bad = sequence_metrics(bad_gt, bad_pred, bad_poly, None, bad_angles, bad_angles + 10)
    assert with_bad["n_frames"] == full["n_frames"] == 12
    for key in ("success_curve", "precision_curve", "norm_precision_curve", "rotated_success_curve"):
        np.testing.assert_array_equal(with_bad[key], full[key])
    assert with_bad["orientation_mean_error"] == full["orientation_mean_error"] == pytest.approx(10.0 * 11 / 12)  # frame 0 is exact


def test_normalised_precision_divides_each_axis_by_the_ground_truth_size():
    gt = np.array([[0, 0, 100, 50]], float)
    pred = gt + [10, 5, 0, 0]  # 0.1 of the width and 0.1 of the height
    assert normalized_center_error(pred, gt)[0] == pytest.approx(np.sqrt(0.02))
    m = sequence_metrics(np.repeat(gt, 2, 0), np.concatenate([gt, pred]))
    assert m["norm_precision_curve"][14] == 0.5 and m["norm_precision_curve"][15] == 1.0
    assert m["norm_precision_20"] == 1.0


def test_orientation_error_wraps_and_missing_angles_count_as_worst():
    error = orientation_error([350.0, 180.0, -170.0, np.nan, 45.0], [10.0, 0.0, 170.0, 0.0, 0.0])
    np.testing.assert_allclose(error, [20.0, 180.0, 20.0, 180.0, 45.0])
    gt = np.tile([[0, 0, 10, 10]], (5, 1)).astype(float)
    m = sequence_metrics(gt, gt, gt_angles=np.zeros(5), angles=[0.0, 90.0, 45.0, 46.0, -10.0])
    assert m["orientation_mean_error"] == pytest.approx((0 + 90 + 45 + 46 + 10) / 5)
    assert m["orientation_within_45"] == pytest.approx(3 / 5)


def test_polygon_iou_of_box_corners_equals_box_iou_in_either_winding():
    rng = np.random.default_rng(4)
    a, b = random_boxes(rng, 200), random_boxes(rng, 200)

    def corners(x):
        return np.stack([x[:, 0], x[:, 1], x[:, 0] + x[:, 2], x[:, 1], x[:, 0] + x[:, 2],
                         x[:, 1] + x[:, 3], x[:, 0], x[:, 1] + x[:, 3]], axis=1)

    clockwise = corners(b).reshape(-1, 4, 2)[:, ::-1].reshape(-1, 8)
    np.testing.assert_allclose(polygon_iou(corners(a), corners(b)), box_iou(a, b), atol=1e-12)
    np.testing.assert_allclose(polygon_iou(corners(a), clockwise), box_iou(a, b), atol=1e-12)


def test_degenerate_polygons_score_zero():
    square = [0, 0, 10, 0, 10, 10, 0, 10]
    line = [0, 0, 10, 0, 10, 0, 0, 0]
    assert polygon_iou([square, square], [line, [np.nan] * 8]).tolist() == [0.0, 0.0]


rect = st.tuples(st.floats(0, 50), st.floats(0, 50), st.floats(1, 40), st.floats(1, 40), st.floats(-180, 180))


@settings(max_examples=200, deadline=None)
@given(rect, rect)
@example((0.0, 0.001, 1.0, 1.0625, 123.61408258080525), (0.0, 0.001, 9.0, 1.0625, 123.61408258080525))
def test_polygon_iou_equals_shapely_on_rotated_rectangles(r1, r2):
    """Shapely's overlay with snap rounding (``grid_size``) as the oracle: its default floating overlay
    returns an empty intersection for the example above, a rectangle inside another along two shared
    edges, where the IoU is 1/9."""
    p = rotated_rect_polygon(r1[:2], (r1[2] + 1, r1[3] + 1), r1[4])
    q = rotated_rect_polygon(r2[:2], (r2[2] + 1, r2[3] + 1), r2[4])
    sp, sq = Polygon(p.reshape(4, 2)), Polygon(q.reshape(4, 2))
    expected = sp.intersection(sq, grid_size=1e-12).area / sp.union(sq, grid_size=1e-12).area
    assert polygon_iou(p, q)[0] == pytest.approx(expected, abs=1e-9)


def test_average_is_the_mean_of_sequence_curves_and_skips_empty_sequences():
    gt = np.tile([[0, 0, 10, 10]], (4, 1)).astype(float)
    perfect = sequence_metrics(gt, gt)
    lost = sequence_metrics(gt, gt + [100, 100, 0, 0])
    empty = sequence_metrics(np.full((3, 4), np.nan), np.zeros((3, 4)))
    avg = average_metrics([perfect, lost, empty])
    assert avg["n_sequences"] == 2 and avg["n_frames"] == 8
    np.testing.assert_allclose(avg["success_curve"], (perfect["success_curve"] + lost["success_curve"]) / 2)
    assert avg["success_auc"] == pytest.approx((20 / 21 + 0.25 * 20 / 21) / 2)
    assert avg["precision_20"] == pytest.approx((1 + 0.25) / 2)
