"""Paired differences over sequences (ientrack/eval/paired.py) and their section of the results page."""
import numpy as np
import pytest

from ientrack.eval.compare import paired_table, results_page
from ientrack.eval.paired import paired_difference


def test_a_constant_gain_has_a_zero_width_interval_and_wins_everywhere():
    reference = {f"s{i}": 0.1 * i for i in range(8)}
    d = paired_difference({s: a + 0.04 for s, a in reference.items()}, reference)
    assert (d.n, d.wins, d.losses) == (8, 8, 0)
    assert d.mean == pytest.approx(0.04) and d.low == pytest.approx(0.04) and d.high == pytest.approx(0.04)
    assert d.without_largest == pytest.approx(0.04)


def test_a_gain_one_sequence_decides_is_shown_as_such():
    reference = {f"s{i}": 0.5 for i in range(10)}
    tracker = dict(reference, s3=1.0)  # +0.5 on one sequence, ties elsewhere
    d = paired_difference(tracker, reference)
    assert d.mean == pytest.approx(0.05) and (d.wins, d.losses) == (1, 0)
    assert d.without_largest == pytest.approx(0.0)
    assert d.low == 0.0  # a third of the resamples miss s3 altogether (0.9 ** 10)
    assert d.cell() == f"+0.050 [+0.000, {d.high:+.3f}] 1/0, +0.000"


def test_the_interval_matches_the_normal_one_on_many_sequences():
    rng = np.random.default_rng(1)
    reference = {i: float(a) for i, a in enumerate(rng.uniform(0.2, 0.8, 400))}
    diffs = rng.normal(0.1, 0.05, 400)
    d = paired_difference({i: a + diffs[i] for i, a in reference.items()}, reference)
    half = 1.96 * diffs.std(ddof=1) / np.sqrt(400)
    assert d.mean == pytest.approx(diffs.mean())
    assert d.low == pytest.approx(diffs.mean() - half, abs=0.15 * half)
    assert d.high == pytest.approx(diffs.mean() + half, abs=0.15 * half)


def test_the_interval_does_not_depend_on_the_sequences_names():
    reference = {f"s{i}": 0.5 for i in range(9)}
    tracker = {s: 0.5 + 0.1 * ((i * 7) % 5 - 2) for i, s in enumerate(reference)}
    renamed = {f"{'zyxwvutsr'[i]}": a for i, a in enumerate(tracker.values())}
    assert paired_difference(tracker, reference) == paired_difference(renamed, dict(zip(renamed, reference.values())))


def test_only_shared_sequences_pair_and_fewer_than_two_give_none():
    d = paired_difference({"a": 0.9, "b": 0.5, "c": 0.1}, {"a": 0.4, "b": 0.5, "x": 0.0})
    assert d.n == 2 and d.mean == pytest.approx(0.25)
    assert paired_difference({"a": 0.9}, {"a": 0.4}) is None


def _report(**trackers):
    return {t: {"overall": {"success_auc": float(np.mean(v))},
                "sequences": {f"s{i}": {"success_auc": a} for i, a in enumerate(v)}} for t, v in trackers.items()}


def test_the_page_pairs_every_tracker_with_the_reference_per_pool():
    tables = {"OTB100": (_report(ref=[0.4, 0.6], new=[0.5, 0.7], old=[0.4, 0.6]), ""),
              "VOT": (_report(ref=[0.3], new=[0.15], old=[0.3]), "")}
    header, _, new, old = paired_table(tables, "ref").splitlines()
    assert header == "| tracker | real (3 seq.) |"
    # differences +0.1, +0.1, -0.15 (VOT's s0 and OTB's s0 are different sequences)
    assert new.startswith("| new | +0.017 [-0.150, +0.100] 2/1, +0.100 |")
    assert old.startswith("| old | +0.000 [+0.000, +0.000] 0/0, +0.000")
    assert paired_table(tables, "absent") == ""
    page = results_page(tables, "python tools/compare.py", "cpu", reference="ref")
    assert "## Paired against ref" in page and new in page
    assert "## Paired against" not in results_page(tables, "python tools/compare.py", "cpu")


def test_the_tool_reads_written_reports_and_names_what_is_missing(tmp_path, capsys):
    import json
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import paired as paired_cli

    for dataset, report in (("OTB100", _report(ref=[0.4, 0.6], new=[0.5, 0.7])), ("VOT", _report(ref=[0.3], new=[0.15]))):
        for tracker, performance in report.items():
            (tmp_path / dataset / tracker).mkdir(parents=True)
            (tmp_path / dataset / tracker / "performance.json").write_text(json.dumps(performance))
    paired_cli.main(["--report-dir", str(tmp_path), "--reference", "ref"])
    assert "| new | +0.017 [-0.150, +0.100] 2/1, +0.100 |" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="VOT2016: no <tracker>/performance.json"):
        paired_cli.main(["--report-dir", str(tmp_path), "--datasets", "OTB100", "VOT2016"])
    with pytest.raises(SystemExit, match="has results of 'siamfc'"):
        paired_cli.main(["--report-dir", str(tmp_path)])  # the default reference, siamfc
    (tmp_path / "VOT" / "new" / "performance.json").write_text("{not json")
    with pytest.raises(SystemExit, match="VOT/new/performance.json: not a readable report"):
        paired_cli.main(["--report-dir", str(tmp_path), "--reference", "ref"])
