"""The GOT-10k toolkit's own experiments run offline on our tracker and agree with our runner + report."""
import shutil

import warnings

import cv2
import numpy as np
import pytest
from conftest import shared_path
from got10k.datasets import OTB
from test_runner import CentroidTracker, centroid_factory, make_fake_otb

from ientrack.data.otb import load_otb
from ientrack.eval import got10k_harness, results_io
from ientrack.eval.iou import box_iou
from ientrack.eval.report import evaluate
from ientrack.eval.runner import run_ope
from ientrack.trackers.base import Tracker, TrackResult


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any attempt of the toolkit to download fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"the toolkit tried to download: {args}")
    monkeypatch.setattr("got10k.datasets.otb.download", refuse)
    monkeypatch.setattr("got10k.utils.ioutils.download", refuse)


def assert_same_scores(toolkit, ours):
    assert abs(toolkit["success_score"] - ours["success_auc"]) < 1e-6
    assert abs(toolkit["precision_score"] - ours["precision_20"]) < 1e-6
    np.testing.assert_allclose(toolkit["success_curve"], ours["success_curve"], atol=1e-6)
    np.testing.assert_allclose(toolkit["precision_curve"], ours["precision_curve"], atol=1e-6)


def test_toolkit_and_our_numbers_agree_on_the_same_fake_otb(tmp_path):
    dataset = make_fake_otb(tmp_path / "otb")
    toolkit = got10k_harness.run_got10k_harness(CentroidTracker(), "OTB100", tmp_path / "otb",
                                                 tmp_path / "toolkit", tmp_path / "toolkit_reports")["centroid"]
    assert sorted(toolkit["seq_wise"]) == sorted(dataset.names)  # only the 4 present sequences
    assert "_download" in OTB.__dict__ and OTB._download is not None  # restored after the build
    run_ope(centroid_factory, dataset, tmp_path / "ours", progress=False)
    ours = evaluate(dataset, ["centroid"], tmp_path / "ours", plots=False)["centroid"]
    assert_same_scores(toolkit["overall"], ours["overall"])
    for name in dataset.names:
        assert_same_scores(toolkit["seq_wise"][name], ours["sequences"][name])
    # both write the same boxes files, byte for byte
    ours_dir = results_io.tracker_dir(tmp_path / "ours", "OTB100", "centroid")
    toolkit_dir = results_io.tracker_dir(tmp_path / "toolkit", "OTB100", "centroid")
    for name in dataset.names:
        assert (ours_dir / f"{name}.txt").read_bytes() == (toolkit_dir / f"{name}.txt").read_bytes()


def test_toolkit_report_on_our_result_files_equals_evaluate_speed_included(tmp_path):
    dataset = make_fake_otb(tmp_path / "otb", n_frames=7)
    run_ope(centroid_factory, dataset, tmp_path / "ours", progress=False)
    experiment = got10k_harness.make_experiment("OTB100", tmp_path / "otb", tmp_path / "ours", tmp_path / "rep")
    toolkit = experiment.report(["centroid"])["centroid"]["overall"]
    ours = evaluate(dataset, ["centroid"], tmp_path / "ours", plots=False)["centroid"]["overall"]
    assert_same_scores(toolkit, ours)
    assert toolkit["speed_fps"] == pytest.approx(ours["fps_got10k"], rel=1e-9)


def test_unknown_dataset_and_missing_root_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="not 'VOT2018'"):
        got10k_harness.make_experiment("VOT2018", tmp_path, tmp_path, tmp_path)
    with pytest.raises(FileNotFoundError, match="no OTB sequences"):
        got10k_harness.make_experiment("OTB100", tmp_path / "absent", tmp_path, tmp_path)


def make_fake_got10k_val(root, otb_dataset):
    """GOT-10k's val layout built from the fake OTB frames (0-based boxes, meta files, labels)."""
    split = root / "val"
    names = []
    for k, seq in enumerate(otb_dataset.sequences[:2]):
        name = f"GOT-10k_Val_{k + 1:06d}"
        (split / name).mkdir(parents=True)
        for f, path in enumerate(seq.frame_paths):
            shutil.copy(path, split / name / f"{f + 1:08d}.jpg")
        np.savetxt(split / name / "groundtruth.txt", seq.gt - [1, 1, 0, 0], fmt="%.4f", delimiter=",")
        (split / name / "meta_info.ini").write_text("[METAINFO]\nresolution: (64, 48)\n")
        cover = np.full(len(seq), 8)
        cover[3] = 0  # target hidden in frame 3: the toolkit leaves it out
        np.savetxt(split / name / "cover.label", cover, fmt="%d")
        for label in ("absence", "cut_by_image"):
            np.savetxt(split / name / f"{label}.label", np.zeros(len(seq)), fmt="%d")
        names.append(name)
    (split / "list.txt").write_text("\n".join(names + ["GOT-10k_Val_000999"]) + "\n")  # one absent
    return names


def test_got10k_val_runs_offline_and_its_ao_is_the_mean_iou(tmp_path, capsys):
    otb = make_fake_otb(tmp_path / "otb")
    names = make_fake_got10k_val(tmp_path / "got10k", otb)
    with pytest.warns(UserWarning, match=r"1 of 3 sequences of GOT10k-val are absent .*: GOT-10k_Val_000999$"):
        performance = got10k_harness.run_got10k_harness(CentroidTracker(), "GOT10k-val", tmp_path / "got10k",
                                                         tmp_path / "res", tmp_path / "rep")["centroid"]
    assert "not exists" not in capsys.readouterr().out  # the toolkit's own line per absent sequence: folded
    assert sorted(performance["seq_wise"]) == names
    ious = []
    for name in names:
        gt = np.loadtxt(tmp_path / "got10k" / "val" / name / "groundtruth.txt", delimiter=",")
        boxes = np.loadtxt(tmp_path / "res" / "GOT10k-val" / "centroid" / name / f"{name}_001.txt", delimiter=",")
        ious.append(np.delete(box_iou(boxes[1:], gt[1:]), 2))  # frame 3 of the sequence is hidden
    assert performance["overall"]["ao"] == pytest.approx(np.concatenate(ious).mean(), abs=1e-6)
    assert cv2.imread(str(tmp_path / "got10k" / "val" / names[0] / "00000001.jpg")).shape == (48, 64, 3)


class DriftTracker(Tracker):
    """Ignores the image: the initial box drifting and growing a little every frame."""

    name = "drift"

    def init(self, image, box):
        self.box, self.frame = np.asarray(box, float), 0

    def update(self, image):
        self.frame += 1
        return TrackResult(box=self.box + self.frame * np.array([0.8, -0.4, 0.3, 0.2]))


def test_real_otb_sequences_toolkit_equals_ours(tmp_path):
    """Biker, Couple, Crossing (tab-separated gt), Football1 (81 frames, 74 scored) of the real OTB."""
    root = shared_path("otb")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the 96 absent sequences
        dataset = load_otb(str(root), "otb100", allow_partial=True)
    toolkit = got10k_harness.run_got10k_harness(DriftTracker(), "otb100", root, tmp_path / "toolkit",
                                                 tmp_path / "toolkit_reports")["drift"]
    assert sorted(toolkit["seq_wise"]) == sorted(dataset.names)
    run_ope(DriftTracker(), dataset, tmp_path / "ours", progress=False)
    ours = evaluate(dataset, ["drift"], tmp_path / "ours", plots=False)["drift"]
    assert 0.05 < ours["overall"]["success_auc"] < 0.9  # neither lost nor perfect
    assert_same_scores(toolkit["overall"], ours["overall"])
    for name in dataset.names:
        assert_same_scores(toolkit["seq_wise"][name], ours["sequences"][name])
