"""GOT-10k, VOT, LaSOT, UAV123 and pysot-JSON loading on the real samples and on tiny fake trees; root
resolution; the registry of names."""
import json

import cv2
import numpy as np
import pytest

from conftest import shared_path
from ientrack.data.errors import DatasetNotFoundError
from ientrack.data.got10k import load_got10k
from ientrack.data.lasot import lasot_splits, load_lasot
from ientrack.data.pysot_json import load_pysot_json
from ientrack.data import registry
from ientrack.data.registry import available_datasets, load_dataset, parse_rot_prefix
from ientrack.data.roots import resolve_root
from ientrack.data.uav123 import load_uav123, uav_frame_ranges
from ientrack.data.vot import load_vot

JPEG = cv2.imencode(".jpg", np.full((8, 8, 3), 100, np.uint8))[1].tobytes()


def write_frames(folder, names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(JPEG)


def boxes_text(n, offset=0):
    return "".join(f"{i + offset},{i},4,5\n" for i in range(n))


def make_got10k(root, split, names, frames=6, gt_rows=None):
    for name in names:
        write_frames(root / split / name, [f"{i:08d}.jpg" for i in range(1, frames + 1)])
        (root / split / name / "groundtruth.txt").write_text(boxes_text(gt_rows or frames))
    (root / split / "list.txt").write_text("\n".join(names) + "\n")


# ---------------------------------------------------------------- GOT-10k
def test_got10k_val_and_test_splits(tmp_path):
    make_got10k(tmp_path, "val", ["GOT-10k_Val_000001", "GOT-10k_Val_000002"])
    make_got10k(tmp_path, "test", ["GOT-10k_Test_000001"], frames=7, gt_rows=1)
    val = load_got10k(tmp_path, "val")
    assert val.names == ["GOT-10k_Val_000001", "GOT-10k_Val_000002"] and len(val[0]) == 6
    np.testing.assert_array_equal(val[0].gt[2], [2, 2, 4, 5])
    assert val[0].frame_paths[0].endswith("GOT-10k_Val_000001/00000001.jpg") and not val[0].one_based
    test = load_got10k(tmp_path, "test")
    sequence = test["GOT-10k_Test_000001"]
    assert sequence.gt is None and len(sequence) == 7
    np.testing.assert_array_equal(sequence.init_box, [0, 0, 4, 5])


def test_got10k_root_may_be_the_split_folder(tmp_path):
    make_got10k(tmp_path, "val", ["a"])
    assert load_got10k(tmp_path / "val", "val").names == ["a"]


def test_got10k_missing_sequences_listed_once_or_skipped_with_partial(tmp_path):
    make_got10k(tmp_path, "val", ["a", "b"])
    (tmp_path / "val" / "list.txt").write_text("a\nb\nc\nd\n")
    with pytest.raises(DatasetNotFoundError, match=r"2 of 4 sequences of GOT10k-val .*: c \(folder\), d \(folder\)"):
        load_got10k(tmp_path, "val")
    with pytest.warns(UserWarning, match=r"loading the 2 present .*c \(folder\), d \(folder\)"):
        assert load_got10k(tmp_path, "val", allow_partial=True).names == ["a", "b"]


# ---------------------------------------------------------------- VOT
def test_vot_real_bag_polygons():
    dataset = load_vot(shared_path("vot"), "VOT2018")
    bag = dataset["bag"]
    assert len(bag) == 196 and bag.polygons.shape == (196, 8)
    np.testing.assert_allclose(bag.polygons[0], [334.02, 128.36, 438.19, 188.78, 396.39, 260.83, 292.23, 200.41])
    # the axis-aligned box is the polygon's bounding box (geometry convention: w = max - min + 1)
    np.testing.assert_allclose(bag.gt[0], [292.23, 128.36, 438.19 - 292.23 + 1, 260.83 - 128.36 + 1])
    assert bag.frame_paths[0].endswith("bag/00000001.jpg")


def test_vot_color_folder_list_file_boxes_and_tags(tmp_path):
    seq = tmp_path / "ball"
    write_frames(seq / "color", [f"{i:08d}.jpg" for i in range(1, 5)])
    (seq / "groundtruth.txt").write_text(boxes_text(4))
    (seq / "occlusion.tag").write_text("0\n1\n0\n0\n")
    (seq / "camera_motion.tag").write_text("0\n0\n0\n0\n")
    mixed = tmp_path / "mixed"
    write_frames(mixed, ["00000001.jpg", "00000002.jpg"])
    (mixed / "groundtruth.txt").write_text("1,2,10,2,10,8,1,8\n3,4,5,6\n")
    (tmp_path / "list.txt").write_text("ball\nmixed\n")
    dataset = load_vot(tmp_path)
    assert dataset.names == ["ball", "mixed"]
    ball = dataset["ball"]
    assert ball.polygons is None and ball.attributes == ["occlusion"] and len(ball) == 4
    assert ball.frame_paths[0].endswith("ball/color/00000001.jpg")
    np.testing.assert_allclose(dataset["mixed"].gt, [[1, 2, 10, 7], [3, 4, 5, 6]])


# ---------------------------------------------------------------- LaSOT
def test_lasot_split_is_the_official_280(tmp_path):
    splits = lasot_splits()
    assert len(splits["test"]) == 280 and len(splits["train"]) == 1120
    assert not set(splits["test"]) & set(splits["train"])
    assert {"airplane-1", "zebra-10"} <= set(splits["test"])


def test_lasot_layout_flags_and_partial(tmp_path):
    seq = tmp_path / "airplane" / "airplane-1"
    write_frames(seq / "img", [f"{i:08d}.jpg" for i in range(1, 6)])
    (seq / "groundtruth.txt").write_text(boxes_text(5))
    (seq / "full_occlusion.txt").write_text("0,0,1,0,0")
    (seq / "out_of_view.txt").write_text("0,0,0,0,0")
    with pytest.raises(DatasetNotFoundError, match=r"279 of 280 .*airplane-13 \(folder airplane/airplane-13/\)"):
        load_lasot(tmp_path)
    with pytest.warns(UserWarning, match="loading the 1 present"):
        dataset = load_lasot(tmp_path, allow_partial=True)
    sequence = dataset["airplane-1"]
    assert dataset.name == "LaSOT" and len(sequence) == 5 and sequence.attributes == ["FOC"] and sequence.one_based


# ---------------------------------------------------------------- UAV123
def test_uav123_subsequence_frame_ranges(tmp_path):
    metas = uav_frame_ranges()["UAV123"]
    assert len(metas) == 123 and metas["bird1_2"] == {"start_frame": 775, "end_frame": 1477, "folder_name": "bird1"}
    write_frames(tmp_path / "data_seq" / "UAV123" / "uav2", [f"{i:06d}.jpg" for i in range(1, 134)])
    write_frames(tmp_path / "data_seq" / "UAV123" / "car1", [f"{i:06d}.jpg" for i in range(751, 1628)])
    anno = tmp_path / "anno" / "UAV123"
    anno.mkdir(parents=True)
    (anno / "uav2.txt").write_text(boxes_text(132) + "NaN,NaN,NaN,NaN\n")
    (anno / "car1_2.txt").write_text(boxes_text(877))
    with pytest.warns(UserWarning, match="121 of 123"):
        dataset = load_uav123(tmp_path, allow_partial=True)
    assert sorted(dataset.names) == ["car1_2", "uav2"]
    car = dataset["car1_2"]
    assert len(car) == 877 and car.frame_paths[0].endswith("car1/000751.jpg") and car.one_based
    assert np.isnan(dataset["uav2"].gt[-1]).all()


# ---------------------------------------------------------------- pysot JSON
def test_pysot_json_real_annotation_over_real_frames():
    with pytest.warns(UserWarning, match="loading the 4 present"):
        dataset = load_pysot_json(shared_path("annotations", "OTB2015.json"), shared_path("otb"), allow_partial=True)
    assert sorted(dataset.names) == ["Biker", "Couple", "Crossing", "Football1"]
    couple = dataset["Couple"]
    assert couple.one_based and len(couple) == 140 and couple.frame_paths[0].endswith("Couple/img/0001.jpg")
    np.testing.assert_array_equal(couple.gt[0], [51, 47, 25, 62])


def test_pysot_json_names_two_targets_and_reads_img_names_polygons_attr(tmp_path):
    write_frames(tmp_path / "Jogging" / "img", ["0001.jpg", "0002.jpg"])
    write_frames(tmp_path / "vid", ["a.jpg", "b.jpg"])
    content = {
        "jogging_1": {"name": "Jogging", "image_files": ["0001.jpg", "0002.jpg"], "gt_rect": [[1, 2, 3, 4]] * 2},
        "jogging_2": {"name": "Jogging", "image_files": ["0001.jpg", "0002.jpg"], "gt_rect": [[5, 6, 7, 8]] * 2},
        "poly": {"video_dir": "poly", "img_names": ["vid/a.jpg", "vid/b.jpg"], "init_rect": [1, 1, 2, 2],
                 "gt_rect": [[1, 1, 3, 1, 3, 3, 1, 3]] * 2, "attr": ["IPR"]},
    }
    (tmp_path / "mine.json").write_text(json.dumps(content))
    dataset = load_pysot_json(tmp_path / "mine.json")
    assert dataset.names == ["Jogging.1", "Jogging.2", "poly"] and dataset.name == "mine"
    np.testing.assert_array_equal(dataset["Jogging.2"].gt[0], [5, 6, 7, 8])
    poly = dataset["poly"]
    assert poly.polygons.shape == (2, 8) and poly.attributes == ["IPR"] and not poly.one_based
    np.testing.assert_array_equal(poly.gt[0], [1, 1, 3, 3])


# ---------------------------------------------------------------- roots
def test_root_resolution_order(tmp_path, monkeypatch):
    paths = tmp_path / "datasets" / "paths.yaml"
    paths.parent.mkdir()
    paths.write_text("OTB: mine/otb\nGOT10k: /abs/got\n")
    for var in ("IENTRACK_OTB_ROOT", "IENTRACK_DATA"):
        monkeypatch.delenv(var, raising=False)
    resolved = resolve_root(["OTB"], None, paths)
    assert resolved.path == tmp_path / "datasets" / "mine" / "otb" and "paths.yaml" in resolved.source
    (tmp_path / "all" / "OTB100").mkdir(parents=True)
    monkeypatch.setenv("IENTRACK_DATA", str(tmp_path / "all"))
    assert resolve_root(["OTB"], None, paths).path == tmp_path / "all" / "OTB100"
    assert resolve_root(["GOT10K"], None, paths).path.as_posix() == "/abs/got"  # no GOT-10k/ there: paths file
    monkeypatch.setenv("IENTRACK_OTB_ROOT", "/env/otb")
    assert resolve_root(["OTB"], None, paths).path.as_posix() == "/env/otb"
    assert resolve_root(["OTB"], "/explicit", paths).path.as_posix() == "/explicit"
    assert resolve_root(["LASOT"], None, paths).path is None


def test_registry_uses_the_environment_root(monkeypatch):
    monkeypatch.setenv("IENTRACK_OTB_ROOT", str(shared_path("otb")))
    with pytest.warns(UserWarning):
        dataset = load_dataset("otb2015", allow_partial=True)
    assert dataset.name == "OTB2015" and len(dataset) == 4


# ---------------------------------------------------------------- registry
def test_registry_names_and_canonical_spelling(tmp_path):
    make_got10k(tmp_path, "test", ["t1"], gt_rows=1)
    dataset = load_dataset("got10k-TEST", root=tmp_path)
    assert dataset.name == "GOT10k-test" and dataset["t1"].gt is None
    assert load_dataset("vot2016", root=shared_path("vot")).name == "VOT2016"
    assert {"OTB100", "OTB2013", "OTB50", "GOT10k-val", "LaSOT", "LaSOT-full", "UAV123", "Builtin"} <= set(
        available_datasets())


def test_unknown_name_lists_known_names():
    with pytest.raises(DatasetNotFoundError, match=r"unknown dataset 'OTB99'; known: OTB100, .*GOT10k-val"):
        load_dataset("OTB99")


@pytest.mark.parametrize("name, parsed", [
    ("Rot-OTB100", (2.0, "OTB100")), ("Rot4-GOT10k-val", (4.0, "GOT10k-val")), ("rot2.5-LaSOT", (2.5, "LaSOT")),
    ("OTB100", (None, "OTB100")), ("Rotation", (None, "Rotation"))])
def test_rot_prefix_parsing(name, parsed):
    assert parse_rot_prefix(name) == parsed


def test_rot_prefix_wraps_the_dataset(monkeypatch):
    calls = []
    real = registry.rotate_dataset

    def rotate_dataset(dataset, omega):
        calls.append((dataset.name, omega))
        return real(dataset, omega)

    monkeypatch.setattr(registry, "rotate_dataset", rotate_dataset)
    with pytest.warns(UserWarning):
        rotated = load_dataset("Rot4-OTB100", root=shared_path("otb"), allow_partial=True)
    assert calls == [("OTB100", 4.0)] and rotated.name == "Rot4-OTB100" and len(rotated) == 4
    with pytest.warns(UserWarning):
        assert load_dataset("rot-otb100", root=shared_path("otb"), allow_partial=True).name == "Rot-OTB100"
