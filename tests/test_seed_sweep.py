"""tools/seed_sweep.py: several seeds trained at once, each scored on the development datasets, the best named."""
import re
import sys
from pathlib import Path

import cv2
import pytest
import skimage.data

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import seed_sweep as sweep_cli  # noqa: E402


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("chelsea", "coffee", "astronaut", "rocket"):
        cv2.imwrite(str(folder / f"{name}.png"), getattr(skimage.data, name)()[:, :, ::-1])
    return folder


def test_two_seeds_train_score_and_a_rerun_trains_nothing_again(small_benchmark, photos, capsys):
    tmp_path, json_path = small_benchmark
    out = tmp_path / "sweep"
    argv = ["--tracker", "siamfc", "--seeds", "0", "1", "--out", str(out), "--datasets", str(json_path),
            "--dataset-root", f"{json_path}={tmp_path / 'frames'}", "--device", "cpu", "--no-progress", "--",
            "--image-folder", str(photos), "--repeat", "1", "--batch-size", "2", "--epochs", "1", "--device", "cpu",
            "--workers", "0"]
    sweep_cli.main(argv)
    table = capsys.readouterr().out
    rows = {int(m[1]): [float(m[2]), float(m[3])] for m in
            re.finditer(r"^\| (\d) \| 2 \| True \| (\d\.\d{3}) \| (\d\.\d{3}) \|$", table, re.M)}
    assert sorted(rows) == [0, 1]  # both seeds trained their 2 steps (4 photos, batches of 2) and finished
    assert (out / "seed0.pt").read_bytes() != (out / "seed1.pt").read_bytes()  # the seeds trained differently
    best = max(rows, key=lambda s: rows[s][1])
    assert f"best development score: seed {best}" in table
    assert (out / "sweep.md").read_text() == table.split("\n", 2)[2].rstrip("\n") + "\n"
    logs = {s: (out / f"seed{s}.log").read_text() for s in (0, 1)}

    sweep_cli.main(argv)  # everything finished: nothing trains again, the same table
    assert capsys.readouterr().out.split("\n", 2)[2] == table.split("\n", 2)[2]
    for s in (0, 1):
        again = (out / f"seed{s}.log").read_text()[len(logs[s]):]
        assert "resuming from" in again and "epoch 1/1" not in again


def test_a_failed_training_names_its_log_and_the_sweep_its_own_arguments(tmp_path, capsys):
    out = tmp_path / "sweep"
    with pytest.raises(SystemExit) as failed:
        sweep_cli.main(["--tracker", "siamfc", "--seeds", "3", "--out", str(out), "--",
                        "--image-folder", str(tmp_path / "none"), "--device", "cpu"])
    assert failed.value.code == f"seed_sweep.py: training failed for seed 3 (see {out / 'seed3.log'})"
    assert "image folder" in (out / "seed3.log").read_text()
    with pytest.raises(SystemExit):
        sweep_cli.main(["--tracker", "siamfc", "--seeds", "0", "--out", str(out), "--", "--seed", "4"])
    assert "--seed, --out and --export are the sweep's to set" in capsys.readouterr().err
