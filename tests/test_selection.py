"""``load_dataset(..., sequences=...)`` (``--sequences`` / ``--video``): the named sequences alone, the others
need not be on disk, and a name the dataset lacks is one line naming the closest ones."""
import shutil
import warnings

import pytest

from ientrack.data.errors import DatasetNotFoundError
from ientrack.data.registry import load_dataset


def test_named_sequences_load_alone_whatever_else_is_missing(small_benchmark):
    tmp_path, json_path = small_benchmark
    shutil.rmtree(tmp_path / "frames" / "Crossing")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Crossing is not asked for: nothing to warn about
        dataset = load_dataset(str(json_path), str(tmp_path / "frames"), sequences=["couple"])
    assert dataset.name == "Small" and dataset.names == ["Couple"]
    rotated = load_dataset(f"Rot4-{json_path}", str(tmp_path / "frames"), sequences=["Couple"])
    assert rotated.name == "Rot4-Small" and rotated.names == ["Couple"] and "IPR" in rotated[0].attributes
    with pytest.raises(DatasetNotFoundError, match=r"^Small has no sequence 'Crossing' \(missing or incomplete on "
                                                   r"disk: Crossing \(12 frames missing: .*0001\.jpg.*\)\); its 1 sequence: Couple$"):
        load_dataset(str(json_path), str(tmp_path / "frames"), sequences=["Couple", "Crossing"])
    with pytest.raises(DatasetNotFoundError, match=r"^Small has no sequence 'Cuple' \(.*\); closest: Couple$"):
        load_dataset(str(json_path), str(tmp_path / "frames"), sequences=["Cuple"])


def test_the_loaders_other_warnings_still_reach_the_user(small_benchmark, monkeypatch):
    tmp_path, json_path = small_benchmark
    from ientrack.data import registry

    real = registry._load_base

    def warning_load(*args, **kwargs):
        warnings.warn("Couple: 1 more ground-truth row than frames")
        return real(*args, **kwargs)

    monkeypatch.setattr(registry, "_load_base", warning_load)
    with pytest.warns(UserWarning, match="1 more ground-truth row"):
        load_dataset(str(json_path), str(tmp_path / "frames"), sequences=["Couple"])
