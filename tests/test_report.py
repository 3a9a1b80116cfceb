"""Reports: known answers for every score, per-attribute averaging, files written, results readers."""
import json

import numpy as np
import pytest
from test_runner import centroid_factory, make_fake_otb

from ientrack.data.sequence import Dataset, Sequence
from ientrack.eval import results_io
from ientrack.eval.report import common_sequences, evaluate, markdown_table
from ientrack.eval.runner import run_ope
from ientrack.geometry import rotated_rect_polygon


def write_results(results_dir, dataset, tracker, boxes_of, times_of=None, **extras_of):
    tdir = results_io.tracker_dir(results_dir, dataset.name, tracker)
    for seq in dataset:
        times = times_of(seq) if times_of else np.full(len(seq), 0.01)
        extras = {k: f(seq) for k, f in extras_of.items()}
        results_io.write_sequence(tdir, seq.name, boxes_of(seq), times, **extras)


@pytest.fixture
def fake_run(tmp_path):
    dataset = make_fake_otb(tmp_path / "otb")
    run_ope(centroid_factory, dataset, tmp_path / "results", progress=False)
    write_results(tmp_path / "results", dataset, "oracle", lambda s: s.gt)
    return dataset, tmp_path


def test_oracle_is_perfect_and_attributes_average_their_sequences(fake_run):
    dataset, tmp = fake_run
    report = evaluate(dataset, ["oracle", "centroid"], tmp / "results", plots=False)
    oracle, centroid = report["oracle"]["overall"], report["centroid"]
    assert oracle["success_auc"] == 20 / 21 and oracle["precision_20"] == 1.0 and oracle["norm_precision_20"] == 1.0
    assert oracle["n_sequences"] == 4 and oracle["n_frames"] == 36
    assert 0.1 < centroid["overall"]["success_auc"] < 20 / 21
    seqs = centroid["sequences"]
    iv = centroid["attributes"]["IV"]  # Basketball and Car4
    np.testing.assert_allclose(iv["success_curve"], np.mean([seqs["Basketball"]["success_curve"],
                                                             seqs["Car4"]["success_curve"]], axis=0))
    assert iv["n_sequences"] == 2
    assert list(centroid["attributes"]) == ["IV", "SV", "OCC", "DEF"]  # the OTB order
    assert centroid["overall"]["success_auc"] == pytest.approx(np.mean([s["success_auc"] for s in seqs.values()]))
    assert "rotated_success_auc" not in centroid["overall"]


def test_speed_is_frames_over_total_time_beside_the_got10k_mean(tmp_path):
    dataset = make_fake_otb(tmp_path / "otb", n_frames=4)
    times = {"Basketball": [0.1, 0.1, 0.1, 0.1], "Bolt": [0.5, 0.1, 0.1, 0.3]}
    write_results(tmp_path, dataset, "t", lambda s: s.gt, lambda s: np.array(times.get(s.name, [0.2] * 4)))
    overall = evaluate(dataset, "t", tmp_path, plots=False)["t"]["overall"]
    assert overall["fps"] == pytest.approx(16 / (0.4 + 1.0 + 0.8 + 0.8))
    per_seq = [10.0, (2 + 10 + 10 + 1 / 0.3) / 4, 5.0, 5.0]
    assert overall["fps_got10k"] == pytest.approx(np.mean(per_seq))


def rotated_dataset(n=6):
    angles = 20.0 * np.arange(n)
    polygons = rotated_rect_polygon(np.tile([40.0, 30.0], (n, 1)), np.tile([21.0, 11.0], (n, 1)), angles)
    return Dataset("Rot-Fake", [Sequence("spin", ["unused.jpg"] * n, None, polygons=polygons, angles=angles)])


def test_rotated_success_and_orientation_where_polygons_and_angles_exist(tmp_path):
    dataset = rotated_dataset()
    seq = dataset[0]
    write_results(tmp_path, dataset, "exact", lambda s: s.gt, polygons=lambda s: s.polygons,
                  angles=lambda s: s.angles + 10.0)
    write_results(tmp_path, dataset, "boxes_only", lambda s: s.gt)
    report = evaluate(dataset, ["exact", "boxes_only"], tmp_path, plots=False)
    exact = report["exact"]["overall"]
    assert exact["rotated_success_auc"] == 20 / 21
    assert exact["orientation_mean_error"] == pytest.approx(10.0 * 5 / 6)
    assert exact["orientation_within_45"] == 1.0
    boxes_only = report["boxes_only"]["overall"]  # its boxes read as angle-0 polygons
    assert boxes_only["rotated_success_auc"] < exact["rotated_success_auc"]
    assert "orientation_mean_error" not in boxes_only
    assert seq.gt.shape == (6, 4)


def test_writes_json_summary_and_plots(fake_run):
    dataset, tmp = fake_run
    report = evaluate(dataset, ["centroid", "oracle"], tmp / "results", report_dir=tmp / "reports")
    out = tmp / "reports" / "OTB100"
    saved = json.loads((out / "centroid" / "performance.json").read_text())
    assert saved["overall"]["success_auc"] == report["centroid"]["overall"]["success_auc"]
    assert (out / "summary.md").read_text().startswith(markdown_table(report) + "\n\n")
    for stem in ["success_plot", "precision_plot", "norm_precision_plot", "attributes/success_OCC"]:
        assert (out / f"{stem}.png").stat().st_size > 1000 and (out / f"{stem}.pdf").is_file()
    assert not (out / "rotated_success_plot.png").exists()


def test_a_rerun_with_one_tracker_keeps_every_tracker_on_disk_and_removes_stale_report_files(fake_run, monkeypatch):
    dataset, tmp = fake_run
    out = tmp / "reports" / "OTB100"
    evaluate(dataset, ["centroid", "oracle"], tmp / "results", report_dir=tmp / "reports")
    (out / "gone").mkdir()  # a tracker whose results were deleted since
    (out / "gone" / "performance.json").write_text("{}")
    (out / "attributes" / "success_XX.png").write_bytes(b"an attribute no longer in the dataset")
    write_results(tmp / "results", Dataset("OTB100", dataset.sequences[:2]), "half", lambda s: s.gt)
    plotted = []
    monkeypatch.setattr("ientrack.eval.plots.plot_report", lambda report, _: plotted.append(sorted(report)) or [])
    report = evaluate(dataset, ["centroid"], tmp / "results", report_dir=tmp / "reports")
    assert list(report) == ["centroid"]  # what was asked for is returned...
    summary = (out / "summary.md").read_text()
    assert "| oracle |" in summary and "| centroid |" in summary  # ...every tracker on disk is shown
    assert "half (results for 2 of the 4 sequences)" in summary and "| half |" not in summary
    assert plotted == [["centroid", "oracle"]]
    assert sorted(p.parent.name for p in out.glob("*/performance.json")) == ["centroid", "oracle"]
    assert not (out / "gone").exists() and not (out / "attributes" / "success_XX.png").exists()


def test_eval_scores_the_sequences_every_tracker_has_and_names_those_left_out(fake_run):
    dataset, tmp = fake_run
    write_results(tmp / "results", Dataset("OTB100", dataset.sequences[1:]), "late", lambda s: s.gt)
    with pytest.warns(UserWarning, match="scoring the 3 of 4 sequences .* left out: late has none for Basketball"):
        kept = common_sequences(dataset, ["centroid", "late"], tmp / "results")
    assert kept.names == ["Bolt", "Boy", "Car4"] and common_sequences(dataset, ["centroid"], tmp / "results") is dataset
    write_results(tmp / "results", Dataset("OTB100", dataset.sequences[:1]), "early", lambda s: s.gt)
    with pytest.raises(results_io.ResultsError, match="no sequence of OTB100 has results of every tracker"):
        common_sequences(dataset, ["early", "late"], tmp / "results")


def test_each_tracker_keeps_its_colour_and_line_style_and_titles_name_dataset_and_sequence_count(fake_run, monkeypatch):
    import matplotlib.figure

    dataset, tmp = fake_run
    away = lambda s: s.gt + [40, 0, 0, 0]  # noqa: E731
    iv = [seq.name for seq in dataset if "IV" in seq.attributes]
    # "a" is right on the IV sequences only, "b" on the others: their ranking flips between plots
    write_results(tmp / "results", dataset, "a", lambda s: s.gt if s.name in iv else away(s))
    write_results(tmp / "results", dataset, "b", lambda s: away(s) if s.name in iv else s.gt)
    drawn = {}
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", lambda fig, path, **_: drawn.setdefault(
        path.stem, (fig.axes[0].get_title(), {line.get_label().split()[0]: (line.get_color(), line.get_linestyle())
                                              for line in fig.axes[0].get_lines()})))
    evaluate(dataset, ["a", "b", "centroid", "oracle"], tmp / "results", report_dir=tmp / "reports")
    styles = {}
    for stem, (_, lines) in drawn.items():
        for name, style in lines.items():
            assert styles.setdefault(name, style) == style, f"{name} changes style in {stem}"
    assert len(set(styles.values())) == 4  # and no two trackers share one
    assert drawn["success_plot"][0] == "Success plots of OPE on OTB100 (4 sequences)"
    assert drawn["success_IV"][0] == "Success plots of OPE on OTB100 - IV (2 sequences)"
    assert drawn["precision_IV"][0] == "Precision plots of OPE on OTB100 - IV (2 sequences)"
    assert {stem for stem in drawn if stem.startswith("precision_")} == {"precision_plot"} | {
        f"precision_{attr}" for attr in ("IV", "OCC", "DEF", "SV")}


def test_markdown_table_sorts_by_success_and_drops_empty_columns(fake_run):
    dataset, tmp = fake_run
    table = markdown_table(evaluate(dataset, ["centroid", "oracle"], tmp / "results", plots=False)).splitlines()
    assert table[0].startswith("| Tracker (OTB100, 4 sequences) | Success AUC | Prec@20px | NormPrec@0.2 | FPS |")
    assert "Rot. success" not in table[0] and "Orient." not in table[0]
    assert table[2].startswith("| oracle | 0.952 | 1.000 | 1.000 |") and table[3].startswith("| centroid |")


def test_results_of_other_toolkits_are_read_whatever_the_delimiter(tmp_path):
    for name, text in {"a": "1,2,3,4\n5,6,7,8\n", "b": "1\t2\t3\t4\n5\t6\t7\t8", "c": "1 2 3 4\n\n5 6 7 8\n"}.items():
        (tmp_path / f"{name}.txt").write_text(text)
        np.testing.assert_array_equal(results_io.read_sequence(tmp_path, name, 2).boxes, [[1, 2, 3, 4], [5, 6, 7, 8]])


def test_bad_results_files_are_named_in_the_error(tmp_path):
    (tmp_path / "short.txt").write_text("1,2,3,4\n")
    with pytest.raises(results_io.ResultsError, match=r"short\.txt: 1 rows, but the sequence has 3 frames"):
        results_io.read_sequence(tmp_path, "short", 3)
    (tmp_path / "wide.txt").write_text("1,2,3,4\n1,2,3\n")
    with pytest.raises(results_io.ResultsError, match=r"wide\.txt, line 2: 3 values, expected 4"):
        results_io.read_sequence(tmp_path, "wide", 2)
    with pytest.raises(results_io.ResultsError, match=r"missing\.txt is missing"):
        results_io.read_sequence(tmp_path, "missing", 2)


def test_the_got10k_benchmark_layout_is_read_too(tmp_path):
    (tmp_path / "GOT-10k_Val_000001").mkdir()
    (tmp_path / "GOT-10k_Val_000001" / "GOT-10k_Val_000001_001.txt").write_text("1,2,3,4\n5,6,7,8\n")
    (tmp_path / "GOT-10k_Val_000001" / "GOT-10k_Val_000001_time.txt").write_text("0.5,0.25\n0.1,0.2\n")
    res = results_io.read_sequence(tmp_path, "GOT-10k_Val_000001", 2)
    assert res.boxes.shape == (2, 4) and res.times.tolist() == [0.5, 0.1]
