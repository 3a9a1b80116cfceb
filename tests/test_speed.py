"""The benchmark's paired speed ratios (tools/benchmark.py); timings themselves are never asserted."""
import pytest

from ientrack.eval.speed import benchmark, markdown, paired_speed


def test_paired_speed_is_the_median_ratio_of_the_reference_time_to_each_tracker_time():
    times = {"ref": iter([9.0, 2.0, 2.0, 4.0]), "fast": iter([9.0, 1.0, 1.0, 1.0]), "slow": iter([9.0, 4.0, 8.0, 8.0])}
    updates = {name: (lambda it=it: next(it)) for name, it in times.items()}
    ratios = paired_speed(updates, "ref", rounds=3)  # the first round is a warm-up
    assert ratios == pytest.approx({"ref": 1.0, "fast": 2.0, "slow": 0.5})


def test_the_benchmark_reports_every_tracker_against_siamfc():
    report = benchmark(["opencv_mil", "siamfc"], "cpu", num_frames=3, repeats=1, random_weights=False)
    assert report["speed_reference"] == "siamfc"
    assert report["trackers"]["siamfc"]["speed_vs_reference"] == 1.0
    assert report["trackers"]["opencv_mil"]["speed_vs_reference"] > 0
    assert "speed_vs_reference" in markdown(report)


def test_the_median_and_best_update_times_come_from_the_same_updates(monkeypatch):
    # the paired probes (conv, backbone step, update) "take" 1000 s each here: they must not feed the update columns
    monkeypatch.setattr("ientrack.eval.speed.timer", lambda fn, device: lambda: 1000.0)
    row = benchmark(["siamfc"], "cpu", num_frames=4, repeats=1, random_weights=False)["trackers"]["siamfc"]
    assert row["update_best_ms"] <= row["update_median_ms"]
