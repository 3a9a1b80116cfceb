"""The Rot protocol (docs/PROTOCOLS.md): rotated frames agree with their rotated ground truth."""
import math

import cv2
import numpy as np
import pytest

from conftest import shared_path
from ientrack.data.frames import read_frame
from ientrack.data.gt_files import list_images, read_boxes, read_rows
from ientrack.data.rot import envelope_box, rot_dataset_name, rotate_dataset, rotate_sequence, rotation_centers
from ientrack.data.sequence import Dataset, Sequence
from ientrack.geometry import box_to_polygon, polygon_to_box, rotated_rect_polygon


def _otb_sequence(name):
    """An OTB sequence built straight from its folder (1-based boxes, frames img/*.jpg)."""
    folder = shared_path("otb", name)
    boxes = read_boxes(str(folder / "groundtruth_rect.txt"))
    frames = list_images(str(folder / "img"))[:len(boxes)]
    return Sequence(name=name, frame_paths=frames, gt=boxes[:len(frames)], one_based=True, attributes=["SV"])


def _vot_bag():
    folder = shared_path("vot", "bag")
    polygons = np.array(read_rows(str(folder / "groundtruth.txt"), widths=(8,)))
    frames = list_images(str(folder))[:len(polygons)]
    return Sequence(name="bag", frame_paths=frames, gt=None, polygons=polygons[:len(frames)])


def _blank_sequence(boxes, shape=(60, 80), one_based=False, draw=None):
    """A sequence of black frames (with ``draw(image)`` applied) and the given boxes."""
    def loader(i):
        image = np.zeros(shape + (3,), dtype=np.uint8)
        if draw is not None:
            draw(image)
        return image
    return Sequence(name="blank", frame_paths=[f"{i}.png" for i in range(len(boxes))], gt=np.array(boxes, float),
                    one_based=one_based, loader=loader)


def _sample(image, points):
    """Bilinear samples of ``image`` at 0-based ``N x 2`` points."""
    pts = np.asarray(points, dtype=np.float32).reshape(-1, 1, 2)
    return cv2.remap(image, pts[..., 0], pts[..., 1], cv2.INTER_LINEAR).reshape(len(points), -1).astype(float)


def _interior_points(polygon, offset, step=2.0, margin=2.0):
    """A grid of 0-based points inside a (rotated) rectangle polygon, ``margin`` px from its sides."""
    p = np.asarray(polygon, float).reshape(4, 2) - offset
    u, v = p[1] - p[0], p[3] - p[0]
    lu, lv = np.linalg.norm(u), np.linalg.norm(v)
    s, t = np.meshgrid(np.arange(margin, lu - margin, step) / lu, np.arange(margin, lv - margin, step) / lv)
    return p[0] + s.reshape(-1, 1) * u + t.reshape(-1, 1) * v


def _corner_map(src_polygon, dst_polygon, offset):
    """The affine map taking three corners of one polygon to those of the other (0-based pixels)."""
    src = (np.asarray(src_polygon, float).reshape(4, 2) - offset)[:3].astype(np.float32)
    dst = (np.asarray(dst_polygon, float).reshape(4, 2) - offset)[:3].astype(np.float32)
    return cv2.getAffineTransform(src, dst)


def _mean_error(source, rotated, t, src_polygon, dst_polygon, offset):
    """Mean absolute difference between pixels inside ``src_polygon`` of the source frame and the points
    they map to (by the corner map onto ``dst_polygon``) in the rotated frame."""
    points = _interior_points(src_polygon, offset)
    m = _corner_map(src_polygon, dst_polygon, offset)
    original = _sample(source.frame(t), points)
    warped = _sample(rotated.frame(t), points @ m[:, :2].T + m[:, 2])
    return np.abs(original - warped).mean()


def _perturbed(polygon, shift=(0.0, 0.0), turn_deg=0.0):
    p = np.asarray(polygon, float).reshape(4, 2)
    c = p.mean(axis=0)
    a = math.radians(turn_deg)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return ((p - c) @ rot + c + shift).reshape(8)


def _assert_pixels_follow_polygons(source, rotated, t, src_polygon, offset):
    """Pixels inside the source polygon of frame ``t`` reappear where the rotated polygon says: only
    interpolation error remains, and moving the polygon by 0.75 px or turning it by 2 degrees is worse."""
    dst = rotated.polygons[t]
    error = _mean_error(source, rotated, t, src_polygon, dst, offset)
    assert error < 8.0, f"frame {t}: mean pixel error {error:.2f} inside the rotated polygon"
    for shift in [(0.75, 0), (-0.75, 0), (0, 0.75), (0, -0.75)]:
        assert _mean_error(source, rotated, t, src_polygon, _perturbed(dst, shift=shift), offset) > error
    for turn in (-2.0, 2.0):
        assert _mean_error(source, rotated, t, src_polygon, _perturbed(dst, turn_deg=turn), offset) > error


def test_frame_zero_is_the_original_and_names_follow_omega():
    seq = _otb_sequence("Couple")
    rotated = rotate_dataset(Dataset("OTB-sample", [seq]))
    assert rotated.name == "Rot-OTB-sample"
    assert rot_dataset_name("OTB100", 4.0) == "Rot4-OTB100"
    assert rot_dataset_name("OTB100", 2.5) == "Rot2.5-OTB100"
    r = rotated["Couple"]
    assert np.array_equal(r.frame(0), read_frame(seq.frame_paths[0]))
    assert not np.array_equal(r.frame(1), seq.frame(1))
    assert np.allclose(r.gt[0], seq.gt[0]) and np.allclose(r.init_box, seq.gt[0])
    assert r.name == "Couple" and r.one_based and len(r) == len(seq)
    assert r.attributes == ["SV", "IPR"] and seq.attributes == ["SV"]  # every rotated sequence turns in plane
    assert rotate_sequence(r).attributes == ["SV", "IPR"] and rotate_sequence(seq, 0.0).attributes == ["SV"]
    assert np.allclose(r.angles, 2.0 * np.arange(len(seq)))


@pytest.mark.parametrize("t", [20, 45, 90])
def test_rotated_otb_frame_agrees_with_its_polygon(t):
    seq = _otb_sequence("Couple")
    rotated = rotate_sequence(seq, omega=2.0)
    _assert_pixels_follow_polygons(seq, rotated, t, box_to_polygon(seq.gt[t]), offset=1.0)
    # the polygon is the box turned by theta about its own centre; the gt box is its envelope
    x, y, w, h = seq.gt[t]
    c = (x + (w - 1) / 2, y + (h - 1) / 2)
    assert np.allclose(rotated.polygons[t], rotated_rect_polygon(c, (w, h), 2.0 * t))
    assert np.allclose(rotated.gt[t], envelope_box(c, (w, h), 2.0 * t))


def test_vot_polygons_rotate_point_by_point():
    seq = _vot_bag()
    rotated = rotate_sequence(seq, omega=3.0)
    for t in (10, 60):
        _assert_pixels_follow_polygons(seq, rotated, t, seq.polygons[t], offset=0.0)
    t = 60
    before, after = seq.polygons[t].reshape(4, 2), rotated.polygons[t].reshape(4, 2)
    sides = lambda p: np.linalg.norm(p - np.roll(p, 1, axis=0), axis=1)
    assert np.allclose(sides(before), sides(after))  # a rigid motion
    assert np.allclose(rotated.gt, polygon_to_box(rotated.polygons))
    # the rotation is about the centre of the polygon's bounding box
    x, y, w, h = polygon_to_box(seq.polygons[t])
    c = np.array([x + (w - 1) / 2, y + (h - 1) / 2])
    a = math.radians(3.0 * t)
    expected = (before - c) @ np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]) + c
    assert np.allclose(after, expected)


def test_envelope_and_angles_hand_computed():
    boxes = np.tile([10.0, 20.0, 40.0, 20.0], (20, 1))
    rotated = rotate_sequence(_blank_sequence(boxes), omega=2.0)
    # t = 15: theta = 30 degrees; w' = 40 cos30 + 20 sin30, h' = 40 sin30 + 20 cos30, centre (29.5, 29.5)
    w2, h2 = 40 * math.sqrt(3) / 2 + 10.0, 20.0 + 20 * math.sqrt(3) / 2
    assert rotated.angles[15] == 30.0
    assert np.allclose(rotated.gt[15], [29.5 - (w2 - 1) / 2, 29.5 - (h2 - 1) / 2, w2, h2])
    assert np.allclose(rotated.gt[15, 2:], [44.6410162, 37.3205081])


def test_positive_angle_moves_a_point_right_of_centre_up():
    def draw(image):
        image[30, 50] = 255  # 10 px right of the centre (40, 30)
    seq = _blank_sequence([[30, 20, 21, 21]] * 2, draw=draw)  # centre (40, 30), 0-based
    frame = rotate_sequence(seq, omega=90.0).frame(1)
    assert np.unravel_index(np.argmax(frame[..., 0]), frame.shape[:2]) == (20, 40)


def test_missing_boxes_carry_the_last_valid_centre_and_stay_invalid():
    boxes = np.array([[30, 20, 21, 21], [31, 21, 21, 21], [32, 22, 21, 21],
                      [np.nan] * 4, [0, 0, 0, 0], [30, 20, 21, 21]], dtype=float)
    assert np.allclose(rotation_centers(boxes, one_based=False)[3:5], [[42, 32]] * 2)
    assert np.allclose(rotation_centers(boxes, one_based=True)[3:5], [[41, 31]] * 2)
    leading = np.vstack([[np.nan] * 4, boxes])
    assert np.allclose(rotation_centers(leading, one_based=False)[0], [40, 30])

    def draw(image):
        image[32, 42] = 255  # the centre carried over from frame 2 stays fixed under rotation
    rotated = rotate_sequence(_blank_sequence(boxes, draw=draw), omega=37.0)
    for t in (3, 4):
        assert rotated.frame(t)[32, 42, 0] == 255
        assert np.isnan(rotated.gt[t]).all() and np.isnan(rotated.polygons[t]).all()
    assert rotated.frame(5)[32, 42, 0] < 255  # frame 5 turns about (40, 30)

    def draw_one_based(image):
        image[31, 41] = 255  # 1-based centre (42, 32) is pixel (41, 31)
    rotated = rotate_sequence(_blank_sequence(boxes, one_based=True, draw=draw_one_based), omega=37.0)
    assert rotated.frame(3)[31, 41, 0] == 255


def test_a_sequence_with_only_its_first_box_turns_about_it():
    def draw(image):
        image[30, 40] = 255
    seq = _blank_sequence([[30, 20, 21, 21]] * 3, draw=draw)
    seq.gt = None  # GOT-10k test: only init_box is public
    rotated = rotate_sequence(seq, omega=50.0)
    assert rotated.gt is None and rotated.polygons is None and np.array_equal(rotated.init_box, [30, 20, 21, 21])
    assert rotated.frame(2)[30, 40, 0] == 255 and rotated.angles[2] == 100.0


def test_bad_omega_and_boxless_sequences_are_refused():
    seq = _blank_sequence([[np.nan] * 4] * 3)
    with pytest.raises(ValueError, match="no valid ground-truth box"):
        rotate_sequence(seq)
    with pytest.raises(ValueError, match="omega"):
        rotate_dataset(Dataset("x", []), omega=float("nan"))
    with pytest.raises(ValueError, match="'fast'"):
        rotate_dataset(Dataset("x", []), omega="fast")
