"""tools/compare.py: every tracker on every dataset in one run, one page whose numbers are the runs'."""
import sys
from pathlib import Path

import pytest

from ientrack.eval.compare import dataset_roots, metric_matrix, pooled_table, real_groups, root_for, short_name
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


def test_named_sequences_are_compared_alone(small_benchmark, capsys):
    tmp_path, json_path = small_benchmark
    compare_cli.main(["--trackers", "opencv_mil", "--datasets", str(json_path), "--sequences", "Crossing",
                      "--dataset-root", f"{json_path}={tmp_path / 'frames'}", "--results-dir", str(tmp_path / "results"),
                      "--report-dir", str(tmp_path / "reports"), "--out", str(tmp_path / "RESULTS.md"), "--no-progress"])
    assert "| Tracker (Small, 1 sequence) |" in (tmp_path / "RESULTS.md").read_text()
    assert [p.name for p in (tmp_path / "results" / "Small" / "opencv_mil").glob("*.txt")] == ["Crossing.txt"]


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


def test_the_headline_pools_each_rotation_speed_with_rotated_auc_and_angles():
    def report(**metrics):
        n = len(next(iter(metrics.values())))
        return {"t": {"overall": {k: sum(v) / n for k, v in metrics.items()},
                      "sequences": {f"s{i}": {k: v[i] for k, v in metrics.items()} for i in range(n)}}}

    tables = {"OTB100": (report(success_auc=[0.4, 0.6]), ""), "../data/real@val": (report(success_auc=[0.2]), ""),
              "Rot-OTB100": (report(success_auc=[0.3, 0.5], rotated_success_auc=[0.2, 0.4],
                                    orientation_within_45=[1.0, 0.0]), ""),
              "Rot-../data/real@val": (report(success_auc=[0.1], rotated_success_auc=[0.1],
                                              orientation_within_45=[1.0]), "")}
    header, _, row = pooled_table(tables).splitlines()
    assert header == ("| tracker | real (3 seq.) | real, Rot2 (3 seq.) | real, Rot2 (3 seq.), rotated AUC "
                      "| real, Rot2 (3 seq.), angle ok |")
    assert row == "| t | 0.400 | 0.300 | 0.233 | 0.667 |"
    assert metric_matrix(tables).splitlines()[0].startswith("| tracker | OTB100 | real@val | Rot-OTB100 | Rot-real@val |")
    assert short_name("Rot4-../x/real@val") == "Rot4-real@val" and short_name("Rot4-OTB100") == "Rot4-OTB100"
