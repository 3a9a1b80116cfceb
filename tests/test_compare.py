"""tools/compare.py: every tracker on every dataset in one run, one page whose numbers are the runs'."""
import sys
from pathlib import Path

import pytest

from ientrack.eval.compare import metric_matrix, dataset_roots, real_groups, root_for
from ientrack.eval.scoring import score_results

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import compare as compare_cli  # noqa: E402


def test_roots_parse_and_rot_datasets_use_their_base_root():
    roots = dataset_roots(["OTB100=/data/otb", "VOT=/data/vot"])
    assert root_for("Rot4-OTB100", roots) == "/data/otb" and root_for("VOT", roots) == "/data/vot"
    assert root_for("Builtin", roots) is None
    with pytest.raises(ValueError, match="NAME=PATH"):
        dataset_roots(["/data/otb"])


def test_the_page_holds_the_command_and_the_scores_of_each_dataset(small_benchmark, capsys):
    tmp_path, json_path = small_benchmark
    out = tmp_path / "RESULTS.md"
    argv = ["--trackers", "opencv_mil", "--datasets", str(json_path), f"Rot4-{json_path}",
            "--dataset-root", f"{json_path}={tmp_path / 'frames'}", "--results-dir", str(tmp_path / "results"),
            "--report-dir", str(tmp_path / "reports"), "--out", str(out), "--no-progress"]
    compare_cli.main(argv)
    page = out.read_text()
    assert "python tools/compare.py --trackers opencv_mil" in page and "Machine:" in page
    for dataset in (str(json_path), f"Rot4-{json_path}"):
        report, table = score_results(dataset, ["opencv_mil"], str(tmp_path / "frames"),
                                      results_dir=str(tmp_path / "results"), report_dir=str(tmp_path / "re"))
        auc = report["opencv_mil"]["overall"]["success_auc"]
        assert table.splitlines()[2] in page  # the same row, from the same result files
        assert f"{auc:.3f}" in page.split("## Success AUC")[1].split("##")[0]
    assert "Orient." in page.split("## Rot4-Small")[1]  # orientation columns on the rotated set (its canonical name)


def _report(*aucs):
    return {"t": {"overall": {"success_auc": sum(aucs) / len(aucs)},
                  "sequences": {f"s{i}": {"success_auc": a} for i, a in enumerate(aucs)}}}


def test_the_real_datasets_are_pooled_by_sequence_per_rotation_speed():
    names = ["Builtin", "OTB100", "VOT", "Rot2-OTB100", "Rot2-VOT", "Rot4-OTB100", "Rot-Builtin"]
    assert real_groups(names) == {"real": ["OTB100", "VOT"], "real, Rot2": ["Rot2-OTB100", "Rot2-VOT"]}
    tables = {"Builtin": (_report(0.9), ""), "OTB100": (_report(0.4, 0.6, 0.5, 0.3), ""), "VOT": (_report(0.8), "")}
    header, _, row = metric_matrix(tables).splitlines()
    assert header.endswith("| real (5 seq.) |")
    assert row == "| t | 0.900 | 0.450 | 0.800 | 0.520 |"  # the pool weighs each sequence once, not each dataset


def test_the_orientation_matrix_has_the_rotated_datasets_only():
    def report(*shares):
        return {"t": {"overall": {"orientation_within_45": sum(shares) / len(shares)},
                      "sequences": {f"s{i}": {"orientation_within_45": a} for i, a in enumerate(shares)}}}

    tables = {"OTB100": (_report(0.5), ""), "Rot2-OTB100": (report(0.6, 0.2), ""), "Rot2-VOT": (report(0.7), "")}
    header, _, row = metric_matrix(tables, "orientation_within_45").splitlines()
    assert header == "| tracker | Rot2-OTB100 | Rot2-VOT | real, Rot2 (3 seq.) |"
    assert row == "| t | 0.400 | 0.700 | 0.500 |"
