"""The command lines end to end: tools/test.py (run, score, resume, --vis), tools/eval.py, tools/demo.py,
tools/bank_responses.py."""
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import SMALL_BENCHMARK_FRAMES, ctrl_c_at_call, shared_path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import bank_responses as bank_cli  # noqa: E402
import demo as demo_cli  # noqa: E402
import eval as eval_cli  # noqa: E402
import test as test_cli  # noqa: E402


def run_test_cli(tmp_path, json_path, *extra):
    test_cli.main(["--tracker", "opencv_mil", "--dataset", str(json_path), "--dataset-root",
                   str(tmp_path / "frames"), "--results-dir", str(tmp_path / "results"),
                   "--report-dir", str(tmp_path / "reports"), "--no-progress", *extra])


def test_test_py_tracks_scores_plots_and_resumes(small_benchmark, capsys):
    tmp_path, json_path = small_benchmark
    run_test_cli(tmp_path, json_path)
    table = capsys.readouterr().out
    assert "| opencv_mil |" in table and "Success AUC" in table
    boxes = tmp_path / "results" / "Small" / "opencv_mil" / "Couple.txt"
    assert np.loadtxt(boxes, delimiter=",").shape == (SMALL_BENCHMARK_FRAMES, 4)
    assert (tmp_path / "reports" / "Small" / "success_plot.png").is_file()
    assert (tmp_path / "reports" / "Small" / "precision_plot.pdf").is_file()
    performance = json.loads((tmp_path / "reports" / "Small" / "opencv_mil" / "performance.json").read_text())
    assert performance["overall"]["n_sequences"] == 2

    stamp = boxes.stat().st_mtime_ns
    run_test_cli(tmp_path, json_path)  # finished sequences are skipped...
    assert boxes.stat().st_mtime_ns == stamp
    assert capsys.readouterr().out.splitlines()[2] == table.splitlines()[2]  # ...and score the same
    run_test_cli(tmp_path, json_path, "--overwrite")  # ...unless told to rerun them
    assert boxes.stat().st_mtime_ns != stamp


def test_vis_writes_one_video_per_sequence_and_says_where(small_benchmark, monkeypatch, capsys):
    monkeypatch.setattr("ientrack.vis.display.display_available", lambda: False)
    tmp_path, json_path = small_benchmark
    run_test_cli(tmp_path, json_path, "--vis")
    folder = tmp_path / "results" / "Small" / "opencv_mil" / "videos"
    assert sorted(p.name for p in folder.iterdir()) == ["Couple.mp4", "Crossing.mp4"]
    assert capsys.readouterr().out.splitlines()[-1] == f"videos: {folder}"


def test_eval_py_scores_results_on_disk_like_test_py(small_benchmark, capsys):
    tmp_path, json_path = small_benchmark
    run_test_cli(tmp_path, json_path)
    from_test = capsys.readouterr().out.splitlines()[2]
    eval_cli.main(["--dataset", str(json_path), "--dataset-root", str(tmp_path / "frames"),
                   "--results-dir", str(tmp_path / "results"), "--report-dir", str(tmp_path / "reports2")])
    assert capsys.readouterr().out.splitlines()[2] == from_test


def test_clear_errors_for_unknown_tracker_dataset_and_missing_results(tmp_path):
    with pytest.raises(SystemExit, match="unknown tracker 'no_such_tracker'"):
        test_cli.main(["--tracker", "no_such_tracker", "--dataset", "OTB100", "--dataset-root", str(tmp_path)])
    with pytest.raises(SystemExit, match="unknown dataset 'NoSuchSet'"):
        test_cli.main(["--tracker", "opencv_mil", "--dataset", "NoSuchSet"])
    with pytest.raises(SystemExit, match="OTB100 not found"):
        test_cli.main(["--tracker", "opencv_mil", "--dataset", "OTB100", "--dataset-root", str(tmp_path / "none")])


def test_demo_tracks_a_folder_of_frames_into_a_video(tmp_path):
    frames = shared_path("otb", "Couple", "img")
    out = tmp_path / "demo.mp4"
    demo_cli.main(["--tracker", "opencv_mil", "--source", str(frames), "--box", "51,47,25,62",
                   "--output", str(out), "--no-window", "--max-frames", "5"])
    assert out.is_file() and out.stat().st_size > 0
    with pytest.raises(SystemExit, match="no such video file"):
        demo_cli.main(["--source", str(tmp_path / "missing.mp4"), "--box", "1,1,5,5", "--no-window"])


def test_harness_got10k_runs_the_toolkit_offline_with_our_numbers(tmp_path, capsys):
    root = tmp_path / "otb"
    shutil.copytree(shared_path("otb", "Couple"), root / "Couple")
    common = ["--tracker", "opencv_mil", "--dataset", "OTB100", "--dataset-root", str(root), "--no-progress",
              "--results-dir", str(tmp_path / "results"), "--report-dir", str(tmp_path / "reports")]
    with pytest.raises(SystemExit, match="--vis draws with ientrack's own runner"):
        test_cli.main(common + ["--harness", "got10k", "--vis"])
    test_cli.main(common + ["--harness", "got10k"])
    toolkit_row = capsys.readouterr().out.splitlines()[-3]
    assert toolkit_row.startswith("| opencv_mil |")
    eval_cli.main(["--dataset", "OTB100", "--dataset-root", str(root), "--allow-partial",
                   "--results-dir", str(tmp_path / "results"), "--report-dir", str(tmp_path / "ours")])
    ours_row = capsys.readouterr().out.splitlines()[2]
    # success AUC and precision@20 agree (the toolkit's columns: success, precision, success rate, fps)
    assert toolkit_row.split("|")[2:4] == ours_row.split("|")[2:4]


def test_ctrl_c_keeps_finished_sequences_and_a_rerun_goes_on(small_benchmark, monkeypatch, capsys):
    from ientrack.trackers.opencv import OpenCVTracker
    tmp_path, json_path = small_benchmark
    ctrl_c_at_call(monkeypatch, OpenCVTracker, "update", SMALL_BENCHMARK_FRAMES + 3)  # in the second sequence
    with pytest.raises(SystemExit) as stop:
        run_test_cli(tmp_path, json_path)
    assert stop.value.code == 130
    assert "interrupted; finished sequences are kept; rerun the same command" in capsys.readouterr().err
    done = sorted(p.name for p in (tmp_path / "results" / "Small" / "opencv_mil").glob("*.txt"))
    assert done == ["Couple.txt"]  # the first sequence, whole; nothing of the interrupted one
    monkeypatch.undo()
    run_test_cli(tmp_path, json_path)
    assert "| opencv_mil |" in capsys.readouterr().out


def test_bad_weights_and_unwritable_folders_are_named_before_any_tracking(small_benchmark, tmp_path):
    bench, json_path = small_benchmark
    common = ["--tracker", "siamfc", "--dataset", str(json_path), "--dataset-root", str(bench / "frames"),
              "--no-progress"]
    with pytest.raises(SystemExit, match="weights file .*missing.pt not found"):
        test_cli.main(common + ["--snapshot", str(tmp_path / "missing.pt")])
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(SystemExit, match="junk.pt"):
        test_cli.main(common + ["--snapshot", str(junk), "--results-dir", str(tmp_path / "r1"),
                                "--report-dir", str(tmp_path / "p1")])
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(SystemExit, match="cannot write reports in .*a_file"):
        test_cli.main(common + ["--results-dir", str(tmp_path / "r2"), "--report-dir", str(blocker)])
    assert not (tmp_path / "r2" / "Small" / "siamfc").exists()  # stopped before tracking


def test_cuda_on_a_machine_without_it_is_refused_even_with_nothing_left_to_run(small_benchmark):
    import torch
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    tmp_path, json_path = small_benchmark
    run_test_cli(tmp_path, json_path)  # every sequence done
    with pytest.raises(SystemExit, match="device 'cuda' requested but torch finds no CUDA device"):
        run_test_cli(tmp_path, json_path, "--device", "cuda")


def test_bank_responses_prints_every_entry_at_the_true_position_and_takes_a_snapshot(small_benchmark, capsys):
    tmp_path, json_path = small_benchmark
    common = ["--dataset", str(json_path), "--root", str(tmp_path / "frames"), "--sequence", "Couple", "--every", "5"]
    bank_cli.main(["--tracker", "ien_siamfc", *common])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines[0].split()) == 3 + 16 and [line.split()[0] for line in lines[1:]] == ["5", "10"]
    best, responses = float(lines[1].split()[2]), [float(r) for r in lines[1].split()[3:]]
    assert len(responses) == 16 and best == 22.5 * int(np.argmax(responses))
    bank_cli.main(["--tracker", "ien_siamfc", "--snapshot", str(ROOT / "ientrack" / "zoo" / "ien_siamfc.pt"), *common])
    assert capsys.readouterr().out.splitlines() == lines  # the config's own weights, named: the same numbers
    with pytest.raises(SystemExit, match="missing.pt"):
        bank_cli.main(["--tracker", "ien_siamfc", "--snapshot", str(tmp_path / "missing.pt"), *common])
    with pytest.raises(SystemExit, match="not a bank"):
        bank_cli.main(["--tracker", "opencv_mil", *common])
