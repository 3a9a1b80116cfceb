"""A user's own sequences in the OTB / UAV layout, loaded by path: frames paired with rows by number, NaN rows
kept (left out of the scores), optional polygons, subsets by a list file or a split column of index.tsv."""
import cv2
import numpy as np
import pytest
from conftest import shared_path

from ientrack.data.errors import DatasetNotFoundError
from ientrack.data.registry import load_dataset


def write_sequence(folder, n, first=0, nan_rows=()):
    """``n`` frames numbered from ``first`` (each frame's index in its pixels), rows whose x is that index."""
    (folder / "img").mkdir(parents=True)
    for i in range(n):
        cv2.imwrite(str(folder / "img" / f"{first + i:05d}.png"), np.full((4, 4, 3), i, np.uint8))
    rows = ["nan,nan,nan,nan" if i in nan_rows else f"{i},1,5,5" for i in range(n)]
    (folder / "groundtruth_rect.txt").write_text("\n".join(rows) + "\n")


def test_a_folder_of_sequences_loads_by_path_numbered_from_0_or_1(tmp_path):
    write_sequence(tmp_path / "mine" / "zero", 5, first=0)
    write_sequence(tmp_path / "mine" / "one", 4, first=1, nan_rows=(2,))
    dataset = load_dataset(str(tmp_path / "mine"))
    assert dataset.name == "mine" and dataset.names == ["one", "zero"]
    for sequence in dataset:
        assert sequence.one_based
        for i, path in enumerate(sequence.frame_paths):
            assert cv2.imread(path)[0, 0, 0] == i and (np.isnan(sequence.gt[i, 0]) or sequence.gt[i, 0] == i)
    assert np.isnan(dataset["one"].gt[2]).all()


def test_a_hole_in_a_users_sequence_is_named_and_a_list_file_picks_a_subset(tmp_path):
    write_sequence(tmp_path / "mine" / "a", 6)
    write_sequence(tmp_path / "mine" / "b", 6)
    (tmp_path / "mine" / "a" / "img" / "00003.png").unlink()
    with pytest.raises(DatasetNotFoundError, match=r"a \(1 frame missing in img/: 00003\.png\)"):
        load_dataset(str(tmp_path / "mine"))
    (tmp_path / "mine" / "just_b.txt").write_text("b\n")
    assert load_dataset(str(tmp_path / "mine" / "just_b.txt")).names == ["b"]


def test_the_real_samples_load_by_split_with_their_polygons_and_nan_rows():
    root = shared_path("real")
    table = [line.split("\t") for line in (root / "index.tsv").read_text().splitlines()[1:]]
    val = load_dataset(f"{root}@val")
    assert val.name == "real@val" and val.names == sorted(row[0] for row in table if row[1] == "val")
    everything = load_dataset(str(root))
    assert len(everything) == len(table)
    for sequence, row in zip(everything, sorted(table)):
        assert len(sequence) == int(row[2])  # frames_kept
    car = everything["vot2015_car1"]
    assert car.polygons.shape == (len(car), 8)
    np.testing.assert_allclose(car.gt[:, 0], car.polygons[:, 0::2].min(axis=1), atol=0.01)
    assert np.isnan(everything["uav10_group3_2"].gt).all(axis=1).sum() == 35
