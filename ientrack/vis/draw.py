"""Drawing tracking results on frames with OpenCV: boxes or rotated polygons, angle, score, frame index."""
import cv2
import numpy as np

from ientrack.geometry import box_to_polygon, valid_boxes

GT_COLOR = (0, 255, 0)  # RGB
PRED_COLOR = (255, 64, 32)


def draw_polygon(image: np.ndarray, polygon, color, thickness: int = 2, one_based: bool = False) -> None:
    """Draw an 8-number polygon in place on an RGB image (skips NaN polygons)."""
    pts = np.asarray(polygon, dtype=np.float64).reshape(4, 2) - (1.0 if one_based else 0.0)
    if not np.isfinite(pts).all():
        return
    cv2.polylines(image, [np.round(pts).astype(np.int32)], True, color, thickness, cv2.LINE_AA)


def draw_frame(image: np.ndarray, index: int, result=None, gt_box=None, gt_polygon=None,
               one_based: bool = False) -> np.ndarray:
    """A copy of ``image`` (RGB) with the ground truth (green) and the prediction (box or polygon, with
    its angle and score) and the frame index written on it."""
    canvas = np.ascontiguousarray(image.copy())
    if gt_polygon is not None:
        draw_polygon(canvas, gt_polygon, GT_COLOR, 2, one_based)
    elif gt_box is not None and valid_boxes(gt_box):
        draw_polygon(canvas, box_to_polygon(gt_box), GT_COLOR, 2, one_based)
    text = f"#{index}"
    if result is not None:
        draw_polygon(canvas, result.as_polygon(), PRED_COLOR, 2, one_based)
        text += f"  angle {result.angle:+.0f}  score {result.score:.2f}"
    cv2.putText(canvas, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(canvas, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return canvas
