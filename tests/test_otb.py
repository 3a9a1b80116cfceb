"""OTB loading: the real samples in ../shared/data/otb, the table cross-checked with the real OTB2015.json,
and the benchmark's quirks on tiny fake trees."""
import json
import warnings
from collections import Counter

import cv2
import numpy as np
import pytest

from conftest import shared_path
from ientrack.data.errors import DatasetNotFoundError
from ientrack.data.otb import load_otb
from ientrack.data.otb_table import ATTRIBUTES, OTB100, OTB100_TABLE, VERSIONS, resolve_otb_name

JPEG = cv2.imencode(".jpg", np.full((8, 8, 3), 128, np.uint8))[1].tobytes()


def make_otb_sequence(root, name, frames=None, gt_rows=None, gt_text=None, numbers=None):
    """Write a fake OTB sequence of the table's entry ``name``: 8x8 JPEGs and ground-truth rows ``i, i, 10, 20``."""
    entry = OTB100[name]
    img = root / entry.folder / "img"
    img.mkdir(parents=True, exist_ok=True)
    for i in numbers or range(entry.first, entry.first + (frames or entry.length)):
        (img / entry.frame_name(i)).write_bytes(JPEG)
    rows = gt_rows if gt_rows is not None else entry.length
    text = gt_text if gt_text is not None else "".join(f"{i},{i},10,20\n" for i in range(rows))
    (root / entry.folder / entry.gt_file).write_text(text)
    return entry


# ---------------------------------------------------------------- the real samples
def test_real_samples_load_with_both_delimiters_and_football1_cut():
    with pytest.warns(UserWarning, match="loading the 4 present"):
        dataset = load_otb(shared_path("otb"), "OTB100", allow_partial=True)
    assert dataset.names == ["Biker", "Couple", "Crossing", "Football1"]
    assert [len(s) for s in dataset] == [142, 140, 120, 74]
    np.testing.assert_array_equal(dataset["Biker"].gt[0], [262, 94, 16, 26])  # commas
    np.testing.assert_array_equal(dataset["Couple"].gt[1], [47, 42, 24, 62])  # tabs
    football = dataset["Football1"]
    assert football.frame_paths[-1].endswith("Football1/img/0074.jpg") and len(football.gt) == 74
    assert all(s.one_based for s in dataset)
    assert dataset["Football1"].attributes == ["IPR", "OPR", "BC"]
    frame = dataset["Couple"].frame(0)
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3


def test_real_samples_incomplete_raise_one_error_naming_missing_and_how_to_fix():
    root = shared_path("otb")
    with pytest.raises(DatasetNotFoundError) as info:
        load_otb(root, "OTB100")
    message = str(info.value)
    assert "96 of 100" in message and "Basketball (folder Basketball/)" in message
    assert str(root) in message and "IENTRACK_OTB_ROOT" in message and "allow_partial" in message


def test_sample_attributes_files_agree_with_table_where_the_toolkit_does():
    for name in ("Couple", "Football1"):
        listed = shared_path("otb", name, "attrs.txt").read_text().replace(",", " ").split()
        assert list(OTB100[name].attributes) == listed
    # the website's attrs.txt lists Crossing with FM and OPR too; the toolkit's annotation (the one that gives
    # the paper's per-attribute counts, tested below) does not
    assert set(OTB100["Crossing"].attributes) == {"SV", "DEF", "BC"}


# ---------------------------------------------------------------- the table against the real OTB2015.json
def test_table_matches_real_pysot_annotation_names_and_frame_ranges():
    annotation = json.loads(shared_path("annotations", "OTB2015.json").read_text())
    assert len(annotation) == len(OTB100_TABLE) == 100
    seen = set()
    for key, entry_json in annotation.items():
        entry = OTB100[resolve_otb_name(key)]
        seen.add(entry.name)
        files = entry_json["image_files"]
        assert entry.folder == entry_json["name"], key
        assert entry.length - entry.official_skip == len(files) == len(entry_json["gt_rect"]), key
        assert files[0] == entry.frame_name(entry.first + entry.official_skip), key
        assert files[-1] == entry.frame_name(entry.last), key
    assert seen == set(OTB100)


def test_real_annotation_first_boxes_equal_the_sample_groundtruth_files():
    annotation = json.loads(shared_path("annotations", "OTB2015.json").read_text())
    with pytest.warns(UserWarning):
        dataset = load_otb(shared_path("otb"), allow_partial=True)
    for sequence in dataset:
        np.testing.assert_array_equal(sequence.gt, annotation[sequence.name[0].lower() + sequence.name[1:]]["gt_rect"])


def test_attribute_counts_are_the_otb2015_paper_counts():
    counts = Counter(a for e in OTB100_TABLE for a in e.attributes)
    assert [counts[a] for a in ATTRIBUTES] == [38, 64, 49, 44, 29, 39, 51, 63, 14, 31, 9]


def test_versions_have_their_exact_sequences():
    assert len(VERSIONS["OTB100"]) == 100 and len({OTB100[n].folder for n in VERSIONS["OTB100"]}) == 98
    assert len(VERSIONS["OTB2013"]) == 51 and {"Jogging.1", "Jogging.2"} <= set(VERSIONS["OTB2013"])
    assert "Skating2.1" not in VERSIONS["OTB2013"] and "Human4" not in VERSIONS["OTB2013"]
    assert len(VERSIONS["OTB50"]) == 50 and {"Skating2.1", "Skating2.2", "Human4"} <= set(VERSIONS["OTB50"])
    assert "Jogging.1" not in VERSIONS["OTB50"]


@pytest.mark.parametrize("spelling, name", [
    ("Jogging.1", "Jogging.1"), ("Jogging-1", "Jogging.1"), ("jogging_1", "Jogging.1"), ("Jogging1", "Jogging.1"),
    ("skating2-2", "Skating2.2"), ("Human4_2", "Human4"), ("human4", "Human4"), ("carDark", "CarDark")])
def test_every_common_spelling_resolves(spelling, name):
    assert resolve_otb_name(spelling) == name


def test_two_target_folder_alone_is_ambiguous():
    with pytest.raises(KeyError, match="Jogging.1, Jogging.2"):
        resolve_otb_name("Jogging")


# ---------------------------------------------------------------- quirks on fake trees
def test_two_targets_and_human4_second_file(tmp_path):
    make_otb_sequence(tmp_path, "Jogging.1")
    (tmp_path / "Jogging" / "groundtruth_rect.2.txt").write_text("5\t6\t7\t8\n" * 307)
    make_otb_sequence(tmp_path, "Human4")
    (tmp_path / "Human4" / "groundtruth_rect.1.txt").write_text("")  # the real, empty .1 file
    dataset = load_otb(tmp_path, sequences=["jogging-1", "Jogging_2", "Human4"])
    assert dataset.names == ["Human4", "Jogging.1", "Jogging.2"]
    np.testing.assert_array_equal(dataset["Jogging.1"].gt[3], [3, 3, 10, 20])
    np.testing.assert_array_equal(dataset["Jogging.2"].gt[3], [5, 6, 7, 8])
    assert dataset["Jogging.1"].frame_paths == dataset["Jogging.2"].frame_paths
    assert len(dataset["Human4"]) == 667


def test_david_board_blurcar_frame_ranges(tmp_path):
    make_otb_sequence(tmp_path, "David")
    make_otb_sequence(tmp_path, "Board")
    make_otb_sequence(tmp_path, "BlurCar1")
    dataset = load_otb(tmp_path, sequences=["David", "Board", "BlurCar1"])
    david = dataset["David"]
    assert len(david) == 471 and david.frame_paths[0].endswith("img/0300.jpg")
    assert david.frame_paths[-1].endswith("img/0770.jpg")
    assert dataset["Board"].frame_paths[0].endswith("img/00001.jpg") and len(dataset["Board"]) == 698
    assert dataset["BlurCar1"].frame_paths[0].endswith("img/0247.jpg") and len(dataset["BlurCar1"]) == 742


def test_tiger1_skips_its_first_five_frames_by_default(tmp_path):
    make_otb_sequence(tmp_path, "Tiger1")
    skipped = load_otb(tmp_path, sequences=["Tiger1"])["Tiger1"]
    assert len(skipped) == 349 and skipped.frame_paths[0].endswith("0006.jpg")
    np.testing.assert_array_equal(skipped.gt[0], [5, 5, 10, 20])
    full = load_otb(tmp_path, sequences=["Tiger1"], tiger1_skip_first=False)["Tiger1"]
    assert len(full) == 354 and full.frame_paths[0].endswith("0001.jpg")


def test_extra_frames_beyond_the_official_range_are_left_out(tmp_path):
    make_otb_sequence(tmp_path, "Football1", frames=81)  # the real folder: 81 jpgs, 74 rows
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sequence = load_otb(tmp_path, sequences=["Football1"])["Football1"]
    assert len(sequence) == 74


def test_fewer_gt_rows_than_frames_keeps_the_annotated_frames_and_warns(tmp_path):
    make_otb_sequence(tmp_path, "Couple", gt_rows=100)
    with pytest.warns(UserWarning, match=r"Couple[/\\]groundtruth_rect.txt: 100 ground-truth rows but 140 frames"):
        sequence = load_otb(tmp_path, sequences=["Couple"])["Couple"]
    assert len(sequence) == 100 and len(sequence.gt) == 100 and sequence.frame_paths[-1].endswith("0100.jpg")


def test_more_gt_rows_than_frames_drops_the_surplus_rows_and_warns(tmp_path):
    make_otb_sequence(tmp_path, "Couple", gt_rows=150)
    with pytest.warns(UserWarning, match="150 ground-truth rows but 140 frames"):
        sequence = load_otb(tmp_path, sequences=["Couple"])["Couple"]
    assert len(sequence) == 140 and len(sequence.gt) == 140


def test_space_and_mixed_delimiters(tmp_path):
    make_otb_sequence(tmp_path, "Deer", gt_text="1 2 3 4\n" * 35 + "5,\t6 ,7\t8\n" * 36)
    sequence = load_otb(tmp_path, sequences=["Deer"])["Deer"]
    np.testing.assert_array_equal(sequence.gt[[0, 70]], [[1, 2, 3, 4], [5, 6, 7, 8]])


def test_missing_frame_file_is_named(tmp_path):
    make_otb_sequence(tmp_path, "Deer", numbers=[i for i in range(1, 72) if i != 17])
    with pytest.raises(DatasetNotFoundError, match=r"Deer \(1 frames in Deer/img/: 0017.jpg\)"):
        load_otb(tmp_path, sequences=["Deer"])


def test_partial_load_with_nothing_present_still_raises(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="100 of 100"):
        load_otb(tmp_path, allow_partial=True)


def test_missing_root_names_it(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        load_otb(tmp_path / "nowhere")
