"""OPE metrics of one sequence and their average over sequences (docs/PROTOCOLS.md).

- Success: IoU (:func:`ientrack.eval.iou.box_iou`, the GOT-10k toolkit's formula) ``>`` each of
  ``linspace(0, 1, 21)``; AUC = mean of the 21 points (a perfect tracker scores 20/21).
- Precision: centre error (centre ``x + (w - 1) / 2``) ``<=`` each of ``0..50`` px; the score is at 20 px.
- Normalised precision (pysot / pytracking convention): the centre offset is divided per axis by the
  ground truth's ``w`` and ``h`` before taking its length, ``<=`` each of ``linspace(0, 0.5, 51)``;
  the score is at 0.20.
- Rotated success: polygon IoU with the same 21 thresholds (a box without polygon is its angle-0 polygon).
- Orientation: ``|wrap(theta_hat - theta)|`` in ``[0, 180]``; mean and share ``<= 45`` degrees. A
  missing (non-finite) predicted angle counts as the worst error, 180.
- Frame 0's prediction is set to the ground truth; frames whose ground truth is missing, NaN or of zero
  area are left out of every score (the GOT-10k OTB toolkit keeps them as failures: on sequences whose
  ground truth is valid throughout, both give the same numbers).
- Averages over sequences are the mean of the sequences' curves (the OTB toolkit's way), scores read
  off the mean curve.
"""
import numpy as np

from ientrack.eval.iou import box_iou, polygon_iou
from ientrack.geometry import box_center, box_to_polygon, valid_boxes, wrap_angle

IOU_THRESHOLDS = np.linspace(0, 1, 21)
CENTER_THRESHOLDS = np.arange(0, 51, dtype=np.float64)
NORM_CENTER_THRESHOLDS = np.linspace(0, 0.5, 51)
PRECISION_INDEX = 20  # 20 px
NORM_PRECISION_INDEX = 20  # 0.20 of the target size
ORIENTATION_TOLERANCE = 45.0
OTB_ATTRIBUTES = ("IV", "SV", "OCC", "DEF", "MB", "FM", "IPR", "OPR", "OV", "BC", "LR")
CURVES = ("success_curve", "precision_curve", "norm_precision_curve", "rotated_success_curve")


def center_error(boxes, gt) -> np.ndarray:
    """Euclidean distance in pixels between the centres of ``N x 4`` boxes and the ground truth."""
    return np.linalg.norm(box_center(boxes) - box_center(gt), axis=-1)


def normalized_center_error(boxes, gt) -> np.ndarray:
    """Centre error with each axis divided by the ground truth's width and height (pysot convention)."""
    gt = np.asarray(gt, dtype=np.float64)
    return np.linalg.norm((box_center(boxes) - box_center(gt)) / gt[..., 2:4], axis=-1)


def success_curve(ious, thresholds=IOU_THRESHOLDS) -> np.ndarray:
    """Share of frames whose overlap is strictly above each threshold (NaN where no frame is given)."""
    return _share(np.greater, ious, thresholds)


def precision_curve(errors, thresholds=CENTER_THRESHOLDS) -> np.ndarray:
    """Share of frames whose (possibly normalised) centre error is at most each threshold."""
    return _share(np.less_equal, errors, thresholds)


def _share(compare, values, thresholds):
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return np.full(len(thresholds), np.nan)
    return compare(values[:, None], thresholds[None, :]).mean(axis=0)


def orientation_error(angles, gt_angles) -> np.ndarray:
    """``|wrap(theta_hat - theta)|`` in degrees, in ``[0, 180]``; non-finite predictions give 180."""
    error = np.abs(wrap_angle(np.asarray(angles, float) - np.asarray(gt_angles, float)))
    return np.where(np.isfinite(error), error, 180.0)


def _with_first_from_gt(pred, gt):
    pred = np.array(pred, dtype=np.float64, copy=True)
    pred[0] = gt[0]
    return pred


def sequence_metrics(gt, boxes, gt_polygons=None, polygons=None, gt_angles=None, angles=None) -> dict:
    """Curves and scores of one sequence (see the module docstring for every convention).

    Rotated success is computed where ``gt_polygons`` is given, orientation where both angle arrays
    are given. Returns a dict with ``n_frames`` (frames scored), the curves and their scores.
    """
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 4)
    if len(boxes) != len(gt):
        raise ValueError(f"{len(boxes)} predicted boxes for {len(gt)} ground-truth frames")
    boxes = _with_first_from_gt(np.reshape(boxes, (-1, 4)), gt)
    keep = valid_boxes(gt)
    out = {"n_frames": int(keep.sum())}
    out["success_curve"] = success_curve(box_iou(boxes[keep], gt[keep]))
    out["precision_curve"] = precision_curve(center_error(boxes[keep], gt[keep]))
    out["norm_precision_curve"] = precision_curve(
        normalized_center_error(boxes[keep], gt[keep]), NORM_CENTER_THRESHOLDS)
    if gt_polygons is not None:
        gt_polygons = np.asarray(gt_polygons, dtype=np.float64).reshape(-1, 8)
        polygons = box_to_polygon(boxes) if polygons is None else np.reshape(polygons, (-1, 8))
        polygons = _with_first_from_gt(polygons, gt_polygons)
        poly_keep = keep & np.isfinite(gt_polygons).all(axis=1)
        out["rotated_success_curve"] = success_curve(polygon_iou(polygons[poly_keep], gt_polygons[poly_keep]))
    if gt_angles is not None and angles is not None:
        gt_angles = np.asarray(gt_angles, dtype=np.float64)
        angles = _with_first_from_gt(angles, gt_angles)
        angle_keep = keep & np.isfinite(gt_angles)
        error = orientation_error(angles[angle_keep], gt_angles[angle_keep])
        out["orientation_error_curve"] = error
    return with_scores(out)


def with_scores(curves: dict) -> dict:
    """Add the scalar scores read off the curves present in ``curves`` (returns the same dict)."""
    if "success_curve" in curves:
        curves["success_auc"] = float(np.mean(curves["success_curve"]))
        curves["precision_20"] = float(curves["precision_curve"][PRECISION_INDEX])
        curves["norm_precision_20"] = float(curves["norm_precision_curve"][NORM_PRECISION_INDEX])
    if "rotated_success_curve" in curves:
        curves["rotated_success_auc"] = float(np.mean(curves["rotated_success_curve"]))
    error = curves.pop("orientation_error_curve", None)
    if error is not None:
        curves["orientation_mean_error"] = float(np.mean(error)) if len(error) else float("nan")
        curves["orientation_within_45"] = float(np.mean(error <= ORIENTATION_TOLERANCE)) if len(error) else float("nan")
    return curves


def average_metrics(per_sequence) -> dict:
    """Average of :func:`sequence_metrics` results: mean curves (sequences without scored frames left
    out), scores read off them; orientation scores are the mean of the sequences' scores."""
    scored = [m for m in per_sequence if m["n_frames"] > 0]
    out = {"n_sequences": len(scored), "n_frames": int(sum(m["n_frames"] for m in scored))}
    for key in CURVES:
        having = [m[key] for m in scored if key in m and np.isfinite(m[key]).all()]
        if having:
            out[key] = np.mean(having, axis=0)
    with_scores(out)
    for key in ("orientation_mean_error", "orientation_within_45"):
        values = [m[key] for m in scored if np.isfinite(m.get(key, np.nan))]
        if values:
            out[key] = float(np.mean(values))
    return out
