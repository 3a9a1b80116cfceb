"""Bad input on the tracking side: invalid initial boxes, boxes outside the frame, grayscale / 16-bit
frames, frames that change size, and a NaN ground truth in the middle of a sequence."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from ientrack import build_tracker
from ientrack.data.sequence import Dataset, Sequence
from ientrack.eval.report import evaluate
from ientrack.eval.runner import OPEError, run_ope
from ientrack.trackers.base import check_init_box

from conftest import shared_path


def real_frames(n=6):
    folder = shared_path("otb", "Couple", "img")
    return [cv2.cvtColor(cv2.imread(str(folder / f"{i:04d}.jpg")), cv2.COLOR_BGR2RGB) for i in range(1, n + 1)]


@pytest.mark.parametrize("box, reason", [
    ([np.nan, 1, 5, 5], "4 finite numbers"),
    ([1, 2, 3], "4 finite numbers"),
    ([10, 10, 0, 5], "no area"),
    ([10, 10, 5, -1], "no area"),
    ([500, 10, 20, 20], "outside the 320x240 frame"),
    ([-40, 10, 20, 20], "outside the 320x240 frame"),
])
def test_unusable_initial_boxes_are_refused_with_the_reason(box, reason):
    with pytest.raises(ValueError, match=reason):
        check_init_box(box, (240, 320, 3), "seq")


def test_a_box_partly_outside_the_frame_is_tracked(tmp_path):
    frames = real_frames()
    box = np.array([-10.0, 40, 40, 60])  # a quarter of it left of the frame
    for name in ("opencv_mil", "siamfc"):  # siamfc with its shipped weights
        tracker = build_tracker(name, **({"device": "cpu"} if name == "siamfc" else {}))
        boxes, _ = tracker.track(frames, box)
        assert np.isfinite(boxes).all() and (boxes[:, 2:] > 0).all(), name


def write_frames(folder, images, ext):
    folder.mkdir(parents=True)
    paths = []
    for i, image in enumerate(images):
        paths.append(str(folder / f"{i + 1:04d}.{ext}"))
        cv2.imwrite(paths[-1], image)
    return paths


def test_grayscale_16_bit_and_resized_frames_run_through_the_runner(tmp_path):
    frames = real_frames()
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    deep = [cv2.cvtColor(f, cv2.COLOR_RGB2BGR).astype(np.uint16) * 257 for f in frames]
    resized = [cv2.resize(cv2.cvtColor(f, cv2.COLOR_RGB2BGR), None, fx=s, fy=s) for f, s in
               zip(frames, [1, 1, 1.25, 1.25, 0.8, 1])]
    gt = np.tile([51.0, 47, 25, 62], (len(frames), 1))
    sequences = [Sequence(name, write_frames(tmp_path / name, images, ext), gt.copy())
                 for name, images, ext in (("gray", gray, "png"), ("deep", deep, "png"), ("resized", resized, "jpg"))]
    dataset = Dataset("Odd", sequences)
    finished = run_ope("opencv_mil", dataset, tmp_path / "results", progress=False)
    assert sorted(finished) == ["deep", "gray", "resized"]
    report = evaluate(dataset, ["opencv_mil"], tmp_path / "results")
    assert report["opencv_mil"]["overall"]["n_sequences"] == 3


def test_an_invalid_first_box_fails_that_sequence_only_naming_it(tmp_path):
    frames = real_frames(3)
    good = np.tile([51.0, 47, 25, 62], (3, 1))
    bad = good.copy()
    bad[0] = [np.nan] * 4
    paths = write_frames(tmp_path / "f", [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in frames], "jpg")
    dataset = Dataset("Mixed", [Sequence("good", paths, good), Sequence("bad", paths, bad, init_box=bad[0])])
    with pytest.raises(OPEError, match=r"bad: ValueError: sequence bad, frame 0: the initial box") as error:
        run_ope("opencv_mil", dataset, tmp_path / "results", progress=False)
    assert error.value.finished == ["good"]


def test_an_unknown_config_setting_is_named_with_the_tracker_and_the_settings_it_takes(tmp_path):
    config = tmp_path / "typo.yaml"
    config.write_text("type: siamfc_canonicalized\ncanonicalizer_weights: x.pt\nrefine_window: 30\n")
    with pytest.raises(ValueError, match=r"'.*typo.yaml' \(type siamfc_canonicalized\): unknown setting\(s\) "
                                         r"refine_window; .*angle_window.*bank_per_pose.*pose_step"):
        build_tracker(str(config))


def test_every_shipped_config_holds_only_settings_its_tracker_takes():
    from ientrack.trackers.registry import accepted_settings, available_trackers, load_config, tracker_class
    ablations = sorted(str(p) for p in (Path(__file__).parents[1] / "configs" / "ablations").glob("*.yaml"))
    assert ablations
    for name in available_trackers() + ablations:
        cfg = load_config(name)
        cfg.pop("train", None)
        assert set(cfg) - {"type"} <= accepted_settings(tracker_class(cfg["type"])), name
