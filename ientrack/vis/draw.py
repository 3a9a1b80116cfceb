"""Drawing tracking results on frames with OpenCV: boxes or rotated polygons, a caption (frame index, angle
against the ground truth's, score) and a legend, each text on a filled box so that it reads on any frame."""
import cv2
import numpy as np

from ientrack.geometry import box_to_polygon, valid_boxes

GT_COLOR = (0, 255, 0)  # RGB
PRED_COLOR = (255, 64, 32)
LABEL_FILL = (24, 24, 24)  # the box under every text: white on near-black reads on bright and dark frames
TEXT_COLOR = (255, 255, 255)
FONT, FONT_SCALE, PAD = cv2.FONT_HERSHEY_SIMPLEX, 0.45, 3


def draw_polygon(image: np.ndarray, polygon, color, thickness: int = 2, one_based: bool = False) -> None:
    """Draw an 8-number polygon in place on an RGB image (skips NaN polygons)."""
    pts = np.asarray(polygon, dtype=np.float64).reshape(4, 2) - (1.0 if one_based else 0.0)
    if not np.isfinite(pts).all():
        return
    cv2.polylines(image, [np.round(pts).astype(np.int32)], True, color, thickness, cv2.LINE_AA)


def _label_height() -> int:
    (_, h), baseline = cv2.getTextSize("Ag", FONT, FONT_SCALE, 1)
    return h + baseline + 2 * PAD


def draw_label(image: np.ndarray, text: str, x: int, y: int, swatch=None) -> None:
    """``text`` in white on a filled :data:`LABEL_FILL` box whose top-left corner is ``(x, y)``, after a
    square of colour ``swatch`` where given (a legend entry)."""
    (w, h), _ = cv2.getTextSize(text, FONT, FONT_SCALE, 1)
    side = h if swatch is not None else 0
    text_x = x + PAD + (side + PAD if swatch is not None else 0)
    cv2.rectangle(image, (x, y), (text_x + w + PAD, y + _label_height() - 1), LABEL_FILL, cv2.FILLED)
    if swatch is not None:
        cv2.rectangle(image, (x + PAD, y + PAD), (x + PAD + side, y + PAD + side), swatch, cv2.FILLED)
    cv2.putText(image, text, (text_x, y + PAD + h), FONT, FONT_SCALE, TEXT_COLOR, 1, cv2.LINE_AA)


def caption(index: int, result=None, gt_angle=None, show_angle: bool = True, show_score: bool = True) -> str:
    """``#index``, then the predicted angle (with the ground truth's, where known) and the score, each
    only where the tracker estimates it."""
    text = f"#{index}"
    if result is not None and show_angle:
        text += f"  angle {result.angle:+.0f}" + (f" (gt {gt_angle:+.0f})" if gt_angle is not None else "")
    if result is not None and show_score:
        text += f"  score {result.score:.2f}"
    return text


def draw_frame(image: np.ndarray, index: int, result=None, gt_box=None, gt_polygon=None, one_based: bool = False,
               gt_angle=None, show_angle: bool = True, show_score: bool = True) -> np.ndarray:
    """A copy of ``image`` (RGB) with the ground truth and the prediction (box or polygon), the
    :func:`caption` at the top left and a legend of the colours drawn at the bottom left. ``show_angle`` /
    ``show_score``: whether the tracker estimates them (an OpenCV tracker does neither)."""
    canvas = np.ascontiguousarray(image.copy())
    legend = []
    if gt_polygon is not None:
        draw_polygon(canvas, gt_polygon, GT_COLOR, 2, one_based)
        legend.append(("ground truth", GT_COLOR))
    elif gt_box is not None and valid_boxes(gt_box):
        draw_polygon(canvas, box_to_polygon(gt_box), GT_COLOR, 2, one_based)
        legend.append(("ground truth", GT_COLOR))
    if result is not None:
        draw_polygon(canvas, result.as_polygon(), PRED_COLOR, 2, one_based)
        legend.append(("prediction", PRED_COLOR))
    draw_label(canvas, caption(index, result, gt_angle, show_angle, show_score), 0, 0)
    for row, (text, color) in enumerate(reversed(legend), 1):
        draw_label(canvas, text, 0, canvas.shape[0] - row * _label_height(), swatch=color)
    return canvas
