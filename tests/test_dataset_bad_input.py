"""Bad input: unparsable or odd ground truth, missing folders, a frame missing inside a sequence (rows are paired
with frames by number, never shifted), unusable first boxes, corrupt, 16-bit and grayscale frames."""
import json
import warnings

import cv2
import numpy as np
import pytest

from ientrack.data.errors import AnnotationError, DatasetNotFoundError
from ientrack.data.frames import FrameError, read_frame
from ientrack.data.got10k import load_got10k
from ientrack.data.gt_files import read_boxes
from ientrack.data.lasot import load_lasot
from ientrack.data.otb import load_otb
from ientrack.data.pysot_json import load_pysot_json
from ientrack.data.uav123 import load_uav123
from ientrack.data.vot import load_vot
from ientrack.geometry import valid_boxes

JPEG = cv2.imencode(".jpg", np.full((8, 8, 3), 90, np.uint8))[1].tobytes()


def fake_deer(root, gt_text):
    """OTB's Deer (frames 1-71) with the given ground-truth text."""
    (root / "Deer" / "img").mkdir(parents=True)
    for i in range(1, 72):
        (root / "Deer" / "img" / f"{i:04d}.jpg").write_bytes(JPEG)
    (root / "Deer" / "groundtruth_rect.txt").write_text(gt_text)


# ---------------------------------------------------------------- ground-truth files
def test_unparsable_line_names_file_and_line(tmp_path):
    fake_deer(tmp_path, "1,2,3,4\n1,2,3,4\n1,2,x,4\n" + "1,2,3,4\n" * 68)
    with pytest.raises(AnnotationError, match=r"Deer[/\\]groundtruth_rect.txt, line 3: cannot parse '1,2,x,4'"):
        load_otb(tmp_path, sequences=["Deer"])


def test_wrong_number_of_values_names_file_and_line(tmp_path):
    path = tmp_path / "groundtruth.txt"
    path.write_text("1,2,3,4\n1,2,3\n")
    with pytest.raises(AnnotationError, match=r"groundtruth.txt, line 2: .*expected 4 numbers"):
        read_boxes(str(path))


@pytest.mark.parametrize("text", ["", "\n \n"])
def test_empty_ground_truth_names_the_file(tmp_path, text):
    fake_deer(tmp_path, text)
    with pytest.raises(AnnotationError, match=r"Deer[/\\]groundtruth_rect.txt: the file is empty"):
        load_otb(tmp_path, sequences=["Deer"])


def test_blank_line_inside_is_an_error_but_trailing_blank_lines_are_not(tmp_path):
    path = tmp_path / "gt.txt"
    path.write_text("1,2,3,4\n\n1,2,3,4\n")
    with pytest.raises(AnnotationError, match="line 2"):
        read_boxes(str(path))
    path.write_text("1,2,3,4\n1,2,3,4\n\n\n")
    assert read_boxes(str(path)).shape == (2, 4)


def test_nan_and_zero_size_boxes_are_kept_as_they_are(tmp_path):
    fake_deer(tmp_path, "1,2,3,4\nNaN,NaN,NaN,NaN\n5,6,0,0\n" + "1,2,3,4\n" * 68)
    gt = load_otb(tmp_path, sequences=["Deer"])["Deer"].gt
    assert gt.shape == (71, 4) and np.isnan(gt[1]).all()
    np.testing.assert_array_equal(gt[2], [5, 6, 0, 0])
    assert valid_boxes(gt[:3]).tolist() == [True, False, False]  # the metrics leave them out


def test_vot_mask_or_odd_rows_are_rejected_with_file_and_line(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "00000001.jpg").write_bytes(JPEG)
    (tmp_path / "s" / "groundtruth.txt").write_text("m10,10,2,2,0101\n")
    with pytest.raises(AnnotationError, match=r"groundtruth.txt, line 1: .*expected 4 or 8 numbers"):
        load_vot(tmp_path)


def test_pysot_json_rows_of_mixed_width_or_broken_json(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"a": {"name": "a", "image_files": ["1.jpg"], "gt_rect": [[1, 2, 3, 4], [1, 2, 3]]}}))
    with pytest.raises(AnnotationError, match="bad.json: sequence 'a'"):
        load_pysot_json(path)
    path.write_text("{not json")
    with pytest.raises(AnnotationError, match="bad.json: not valid JSON"):
        load_pysot_json(path)


# ---------------------------------------------------------------- missing folders
def test_missing_frames_folder_is_named(tmp_path):
    (tmp_path / "Deer").mkdir()
    (tmp_path / "Deer" / "groundtruth_rect.txt").write_text("1,2,3,4\n" * 71)
    with pytest.raises(DatasetNotFoundError, match=r"Deer \(frames folder Deer/img/\)"):
        load_otb(tmp_path, sequences=["Deer"])


def test_sequence_without_frames_is_named(tmp_path):
    (tmp_path / "val" / "a").mkdir(parents=True)
    (tmp_path / "val" / "a" / "groundtruth.txt").write_text("1,2,3,4\n")
    (tmp_path / "val" / "list.txt").write_text("a\n")
    with pytest.raises(DatasetNotFoundError, match=r"a \(no frames in a/\)"):
        load_got10k(tmp_path, "val")


def test_frames_of_changing_size_load_and_read_at_their_own_size(tmp_path):
    (tmp_path / "s").mkdir()
    cv2.imwrite(str(tmp_path / "s" / "00000001.jpg"), np.zeros((8, 8, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "s" / "00000002.jpg"), np.zeros((12, 16, 3), np.uint8))
    (tmp_path / "s" / "groundtruth.txt").write_text("1,1,2,2\n1,1,2,2\n")
    sequence = load_vot(tmp_path)["s"]
    assert sequence.frame(0).shape == (8, 8, 3) and sequence.frame(1).shape == (12, 16, 3)


# ---------------------------------------------------------------- frames at read time
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.99])  # cut inside the headers, mid-scan, just before the end
def test_truncated_jpeg_raises_frame_error_naming_the_file(tmp_path, keep):
    image = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    data = cv2.imencode(".jpg", image)[1].tobytes()
    path = tmp_path / "0001.jpg"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(FrameError, match=r"truncated.*0001.jpg"):
        read_frame(str(path))


def test_missing_and_non_image_files_raise_frame_error(tmp_path):
    with pytest.raises(FrameError, match=r"frame not found: .*nope.jpg"):
        read_frame(str(tmp_path / "nope.jpg"))
    (tmp_path / "text.jpg").write_text("hello")
    with pytest.raises(FrameError, match="text.jpg"):
        read_frame(str(tmp_path / "text.jpg"))


def test_16bit_png_becomes_rgb_uint8(tmp_path):
    bgr = np.zeros((4, 5, 3), np.uint16)
    bgr[..., 0], bgr[..., 1], bgr[..., 2] = 10 * 256, 20 * 256 + 255, 30 * 256
    cv2.imwrite(str(tmp_path / "deep.png"), bgr)
    frame = read_frame(str(tmp_path / "deep.png"))
    assert frame.dtype == np.uint8 and frame.shape == (4, 5, 3)
    assert frame[0, 0].tolist() == [30, 20, 10]  # RGB order, top byte kept


def test_grayscale_image_becomes_three_equal_channels(tmp_path):
    gray = np.arange(48, dtype=np.uint8).reshape(6, 8)
    cv2.imwrite(str(tmp_path / "gray.png"), gray)
    frame = read_frame(str(tmp_path / "gray.png"))
    assert frame.shape == (6, 8, 3) and frame.dtype == np.uint8
    for channel in range(3):
        np.testing.assert_array_equal(frame[..., channel], gray)


def test_a_sequence_folder_with_a_frame_missing_is_listed_before_those_never_downloaded(tmp_path):
    fake_deer(tmp_path, "1,2,3,4\n" * 71)
    (tmp_path / "Deer" / "img" / "0040.jpg").unlink()
    with pytest.raises(DatasetNotFoundError) as error:
        load_otb(tmp_path)  # the whole OTB100 asked for: 99 folders absent, Deer incomplete
    listed = str(error.value).split(": ", 1)[1]
    assert listed.startswith("Deer (1 frames in Deer/img/: 0040.jpg)")


# ---------------------------------------------------------------- a frame missing inside a sequence
def numbered_sequence(folder, n, digits=8, first=1):
    """``n`` frames numbered from ``first``, each frame's number written into its pixels (readable back)."""
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(first, first + n):
        cv2.imwrite(str(folder / f"{number:0{digits}d}.png"), np.full((4, 4, 3), number, np.uint8))


def rows_text(n):
    """Ground truth whose row ``i`` says which frame it belongs to (x = its 1-based frame number)."""
    return "".join(f"{i + 1},1,5,5\n" for i in range(n))


def got10k_seq(root, name="seq1", n=15):
    numbered_sequence(root / "val" / name, n)
    (root / "val" / name / "groundtruth.txt").write_text(rows_text(n))
    return root / "val" / name


def vot_seq(root, name="s", n=15):
    numbered_sequence(root / name / "color", n)
    (root / name / "groundtruth.txt").write_text(rows_text(n))
    return root / name / "color"


def lasot_seq(root, name="airplane-1", n=15):
    numbered_sequence(root / name.rsplit("-", 1)[0] / name / "img", n)
    (root / name.rsplit("-", 1)[0] / name / "groundtruth.txt").write_text(rows_text(n))
    return root / name.rsplit("-", 1)[0] / name / "img"


LOADERS = {  # name: (write one sequence under root -> its frames folder, load root with allow_partial)
    "GOT10k": (got10k_seq, lambda root, partial: load_got10k(root, "val", allow_partial=partial)),
    "VOT": (vot_seq, lambda root, partial: load_vot(root, allow_partial=partial)),
    "LaSOT": (lasot_seq, lambda root, partial: load_lasot(root, allow_partial=partial)),
}


def assert_rows_on_their_frames(dataset):
    """Row ``i`` names frame ``i + 1`` (its x); the frame file paired with it holds that number."""
    for sequence in dataset:
        for row, path in zip(sequence.gt, sequence.frame_paths):
            assert read_frame(path)[0, 0, 0] == int(row[0]), (sequence.name, path)


@pytest.mark.parametrize("layout", LOADERS)
def test_a_frame_missing_inside_a_sequence_is_named_never_shifted(tmp_path, layout):
    write, load = LOADERS[layout]
    frames = write(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LaSOT: the 279 other sequences of its test split are absent
        assert_rows_on_their_frames(load(tmp_path, True))
    (frames / "00000006.png").unlink()
    with pytest.raises(DatasetNotFoundError, match=r"\(1 frame missing in \w+/: 00000006\.png\)"):
        load(tmp_path, True)  # its only sequence: nothing left to load, even with allow_partial


@pytest.mark.parametrize("layout", ["GOT10k", "VOT"])
def test_allow_partial_leaves_a_sequence_with_a_hole_out_and_says_so(tmp_path, layout):
    write, load = LOADERS[layout]
    frames = write(tmp_path, name="hole")
    write(tmp_path, name="whole")
    (frames / "00000002.png").unlink()
    (frames / "00000009.png").unlink()
    with pytest.warns(UserWarning, match=r"1 of 2 sequences .*hole \(2 frames missing in \w+/: 00000002\.png, "
                                         r"00000009\.png\)"):
        dataset = load(tmp_path, True)
    assert dataset.names == ["whole"]
    assert_rows_on_their_frames(dataset)


def test_got10k_test_split_with_a_hole_is_named(tmp_path):
    folder = tmp_path / "test" / "t1"
    numbered_sequence(folder, 9)
    (folder / "groundtruth.txt").write_text("1,1,5,5\n")
    assert len(load_got10k(tmp_path, "test")["t1"]) == 9
    (folder / "00000004.png").unlink()
    with pytest.raises(DatasetNotFoundError, match=r"t1 \(1 frame missing in t1/: 00000004\.png\)"):
        load_got10k(tmp_path, "test")


def test_uav123_names_the_missing_frames(tmp_path):
    folder = tmp_path / "data_seq" / "UAV123" / "uav6"
    folder.mkdir(parents=True)
    for number in range(1, 110):
        (folder / f"{number:06d}.jpg").write_bytes(JPEG)
    (tmp_path / "anno" / "UAV123").mkdir(parents=True)
    (tmp_path / "anno" / "UAV123" / "uav6.txt").write_text(rows_text(109))
    (folder / "000050.jpg").unlink()
    with pytest.raises(DatasetNotFoundError, match=r": uav6 \(1 frames missing in data_seq/UAV123/uav6/: 000050.jpg\)"):
        load_uav123(tmp_path, allow_partial=True)


def test_rows_and_frames_differing_at_the_end_keep_the_shorter_paired_by_number(tmp_path):
    frames = got10k_seq(tmp_path, n=8)
    (frames / "00000008.png").unlink()  # the last frame: 8 rows, frames 1-7
    with pytest.warns(UserWarning, match=r"groundtruth.txt: 8 ground-truth rows but 7 frames .*using the first 7"):
        dataset = load_got10k(tmp_path, "val")
    assert len(dataset["seq1"]) == 7 and len(dataset["seq1"].gt) == 7
    assert_rows_on_their_frames(dataset)


def test_frames_without_a_number_or_with_one_number_twice_are_refused(tmp_path):
    folder = got10k_seq(tmp_path, n=3)
    (folder / "cover.jpg").write_bytes(JPEG)
    with pytest.raises(AnnotationError, match=r"cover.jpg: a frame's name must carry its number"):
        load_got10k(tmp_path, "val")
    (folder / "cover.jpg").unlink()
    (folder / "2.jpg").write_bytes(JPEG)
    with pytest.raises(AnnotationError, match=r"00000002.png and 2.jpg both claim frame number 2"):
        load_got10k(tmp_path, "val")


def test_pysot_json_with_a_frame_missing_in_the_middle_is_named(tmp_path):
    numbered_sequence(tmp_path / "s", 5, digits=4)
    names = [f"s/{i:04d}.png" for i in range(1, 6)]
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"s": {"name": "s", "img_names": names, "gt_rect": [[1, 1, 5, 5]] * 5}}))
    assert len(load_pysot_json(path)["s"]) == 5
    (tmp_path / "s" / "0003.png").unlink()
    with pytest.raises(DatasetNotFoundError, match=r"s \(1 frames missing: .*0003.png\)"):
        load_pysot_json(path)


@pytest.mark.parametrize("first_row, problem", [("10,10,0,0", "has no area"), ("10,10,-4,6", "has no area"),
                                                ("nan,nan,nan,nan", "must be 4 finite numbers")])
def test_a_first_box_no_tracker_can_start_from_makes_the_sequence_unusable(tmp_path, first_row, problem):
    got10k_seq(tmp_path, "bad", n=3)
    got10k_seq(tmp_path, "good", n=3)
    (tmp_path / "val" / "bad" / "groundtruth.txt").write_text(f"{first_row}\n2,1,5,5\n3,1,5,5\n")
    with pytest.raises(DatasetNotFoundError, match=rf"bad \(the initial box {problem}"):
        load_got10k(tmp_path, "val")
    with pytest.warns(UserWarning, match=rf"bad \(the initial box {problem}"):
        assert load_got10k(tmp_path, "val", allow_partial=True).names == ["good"]


def test_a_vot_folder_of_ones_own_may_count_from_0_and_a_missing_frame_0_is_never_skipped(tmp_path):
    numbered_sequence(tmp_path / "mine", 5, first=0)
    (tmp_path / "mine" / "groundtruth.txt").write_text("".join(f"{i},1,5,5\n" for i in range(5)))
    sequence = load_vot(tmp_path)["mine"]
    assert [read_frame(p)[0, 0, 0] for p in sequence.frame_paths] == sequence.gt[:, 0].tolist() == [0, 1, 2, 3, 4]
    (tmp_path / "mine" / "00000000.png").unlink()
    with pytest.raises(DatasetNotFoundError, match=r"mine \(5 ground-truth rows but frames numbered 1 to 4 in "
                                                   r"mine/: 00000000\.png or 00000005\.png is missing\)"):
        load_vot(tmp_path)
