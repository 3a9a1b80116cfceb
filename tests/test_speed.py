"""The benchmark's paired speed ratios and its time per stage (tools/benchmark.py); timings themselves are
never asserted, only how they are taken apart and put together."""
import numpy as np
import pytest

from ientrack import build_tracker
from ientrack.eval.speed import benchmark, markdown, paired_speed, synthetic_clip
from ientrack.eval.stage_timing import STAGES, StageClock, staged_update
from ientrack.trackers import search


def test_paired_speed_is_the_median_ratio_of_the_reference_time_to_each_tracker_time():
    times = {"ref": iter([9.0, 2.0, 2.0, 4.0]), "fast": iter([9.0, 1.0, 1.0, 1.0]), "slow": iter([9.0, 4.0, 8.0, 8.0])}
    updates = {name: (lambda it=it: next(it)) for name, it in times.items()}
    ratios = paired_speed(updates, "ref", rounds=3)  # the first round is a warm-up
    assert ratios == pytest.approx({"ref": 1.0, "fast": 2.0, "slow": 0.5})


def test_a_stage_clock_gives_each_stage_its_own_time_without_the_stages_it_calls():
    now = [0.0]

    def work(seconds):
        now[0] += seconds

    clock = StageClock(now=lambda: now[0])
    inner = clock.wrap("backbone", lambda: work(3.0))
    outer = clock.wrap("crop", lambda: (work(1.0), inner(), work(0.5)))
    outer()
    inner()
    assert dict(clock.seconds) == {"crop": 1.5, "backbone": 6.0}


def test_the_stages_of_a_real_update_cover_it_and_the_tracker_is_left_as_it_was():
    frames, boxes = synthetic_clip(3)
    tracker = build_tracker("siamfc", device="cpu")
    backbone, upsample = tracker.backbone, search.upsample_bicubic
    tracker.init(frames[0], boxes[0])
    times = staged_update(tracker, frames[1])
    assert set(times) == set(STAGES) | {"total"}
    assert sum(times[s] for s in STAGES) == pytest.approx(times["total"], rel=1e-9)
    for stage in ("crop", "backbone", "correlation", "upsampling"):  # each wrapped where the update calls it
        assert times[stage] > 0, stage
    assert times["canonicalizer"] == 0 and times["rest"] >= 0  # nothing counted twice
    assert tracker.backbone is backbone and search.upsample_bicubic is upsample
    assert "against_bank" not in vars(tracker.head) and "_patches" not in vars(tracker)


def test_the_benchmark_reports_every_tracker_against_siamfc_with_its_stages():
    report = benchmark(["opencv_mil", "siamfc", "no_such_tracker_config.yaml"], "cpu", num_frames=3, repeats=2,
                       random_weights=False)
    assert report["speed_reference"] == "siamfc"
    assert set(report["trackers"]) == {"opencv_mil", "siamfc"} and list(report["skipped"]) == ["no_such_tracker_config.yaml"]
    assert report["trackers"]["siamfc"]["speed_vs_reference"] == 1.0
    for name, row in report["trackers"].items():
        assert np.isfinite(row["speed_vs_reference"]) and row["speed_vs_reference"] > 0, name
        assert row["update_best_ms"] <= row["update_median_ms"], name
    siamfc = report["trackers"]["siamfc"]
    assert siamfc["backend"] == "torch" and set(siamfc["stages_ms"]) == set(STAGES)
    assert siamfc["staged_update_best_ms"] <= siamfc["staged_update_median_ms"]
    assert all(ms >= 0 for ms in siamfc["stages_ms"].values()) and siamfc["stages_ms"]["backbone"] > 0
    assert "stages_ms" not in report["trackers"]["opencv_mil"]  # not a Siamese tracker: no stages to time
    text = markdown(report)
    assert "(siamfc's update time / the tracker's)" in text and "| siamfc | torch |" in text
    assert "| opencv_mil | - |" in text and "| siamfc | " + " | ".join(
        f"{siamfc['stages_ms'][s]:.2f}" for s in STAGES) in text
    assert "skipped no_such_tracker_config.yaml" in text


def test_the_thread_clock_is_refused_on_several_threads(monkeypatch):
    monkeypatch.setattr("torch.get_num_threads", lambda: 2)
    with pytest.raises(ValueError, match="--threads 1"):
        benchmark(["siamfc"], "cpu", num_frames=2, repeats=1, random_weights=False, clock="thread")


def test_the_median_and_best_update_times_come_from_the_same_updates(monkeypatch):
    # the paired probes (conv, backbone step, update) "take" 1000 s each here: they must not feed the update columns
    monkeypatch.setattr("ientrack.eval.speed.timer", lambda fn, device, now=None: lambda: 1000.0)
    row = benchmark(["siamfc"], "cpu", num_frames=4, repeats=1, random_weights=False)["trackers"]["siamfc"]
    assert row["update_best_ms"] <= row["update_median_ms"]
