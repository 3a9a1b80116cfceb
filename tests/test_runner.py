"""OPE runner: the toolkit's file layout, resumability, atomic writes, failures, workers and ranks.

Also home of the small fake OTB-like benchmark and the test-only trackers that test_report.py and
test_got10k_harness.py use.
"""
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from ientrack.data.sequence import Dataset, Sequence
from ientrack.eval import results_io
from ientrack.eval.provenance import StaleResultsError
from ientrack.eval.runner import OPEError, run_ope
from ientrack.eval.tracker_spec import TrackerSpec, spec_name
from ientrack.trackers.base import Tracker, TrackResult
from ientrack.trackers.registry import TRACKER_TYPES

# names the GOT-10k toolkit's OTB list knows; attributes as OTB would tag them
FAKE_SEQUENCES = {"Basketball": ["IV", "OCC"], "Bolt": ["OCC", "DEF"], "Boy": ["SV"], "Car4": ["IV", "SV"]}


def make_fake_otb(root, n_frames=9, failing=None, write=True) -> Dataset:
    """A bright square moving on a dark 64 x 48 background, in OTB's layout (1-based gt, ``img/0001.jpg``).

    The first frame of sequence ``failing`` carries a marker pixel that :class:`CentroidTracker` rejects.
    ``write=False`` only describes a dataset written before (processes that share one must not rewrite it).
    """
    sequences = []
    for k, (name, attributes) in enumerate(FAKE_SEQUENCES.items()):
        img_dir = Path(root) / name / "img"
        img_dir.mkdir(parents=True, exist_ok=True)
        paths, boxes = [], []
        for f in range(n_frames):
            x, y = 8 + 3 * f + k, 10 + 2 * f
            image = np.zeros((48, 64, 3), np.uint8)
            image[y:y + 12, x:x + 16] = 255
            if name == failing and f == 0:
                image[0, 0] = 200
            path = img_dir / f"{f + 1:04d}.jpg"
            if write:
                cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 100])
            paths.append(str(path))
            boxes.append([x + 1, y + 1, 16, 12])  # 1-based, as OTB files are
        if write:
            np.savetxt(Path(root) / name / "groundtruth_rect.txt", boxes, fmt="%d", delimiter=",")
        sequences.append(Sequence(name, paths, np.array(boxes, float), attributes, one_based=True))
    return Dataset("OTB100", sequences)


class CentroidTracker(Tracker):
    """Deterministic and frame-dependent: the initial box size centred on the bright pixels, drifting
    by 0.7 px per frame so that the scores are neither perfect nor zero. ``weights`` and ``device`` are
    taken as a zoo tracker's and ignored."""

    def __init__(self, name="centroid", fail_on_marker=False, weights=None, device="cpu"):
        super().__init__(name)
        self.fail_on_marker = fail_on_marker
        self.inits = 0

    def init(self, image, box):
        if self.fail_on_marker and image[0, 0, 0] > 100:
            raise ValueError("marker pixel seen")
        self.size, self.frame, self.inits = np.asarray(box[2:4], float), 0, self.inits + 1

    def update(self, image):
        self.frame += 1
        ys, xs = np.nonzero(image[..., 0] > 128)
        centre = np.array([xs.mean(), ys.mean()]) + 1 + 0.7 * self.frame  # 1-based like the gt
        box = np.concatenate([centre - (self.size - 1) / 2, self.size])
        return TrackResult(box=box, angle=3.0 * self.frame, score=0.5)


def centroid_factory():
    return CentroidTracker()


def read_all_boxes(results_dir, dataset, name="centroid"):
    tdir = results_io.tracker_dir(results_dir, dataset.name, name)
    return {s.name: results_io.boxes_path(tdir, s.name).read_bytes() for s in dataset}


@pytest.fixture
def fake(tmp_path):
    return make_fake_otb(tmp_path / "otb")


def test_writes_the_toolkit_layout_with_our_extras(fake, tmp_path):
    seen = []
    finished = run_ope(centroid_factory, fake, tmp_path / "results", progress=False,
                       vis_fn=lambda seq, f, image, result: seen.append((seq.name, f, image.shape)))
    assert finished == fake.names
    tdir = tmp_path / "results" / "OTB100" / "centroid"
    for seq in fake:
        boxes = np.loadtxt(tdir / f"{seq.name}.txt", delimiter=",")
        assert boxes.shape == (9, 4) and np.array_equal(boxes[0], seq.gt[0])
        times = np.loadtxt(tdir / "times" / f"{seq.name}_time.txt")
        assert times.shape == (9,) and (times > 0).all()
        assert np.loadtxt(tdir / "polygons" / f"{seq.name}.txt", delimiter=",").shape == (9, 8)
        np.testing.assert_allclose(np.loadtxt(tdir / "angles" / f"{seq.name}.txt"), 3.0 * np.arange(9))
        np.testing.assert_allclose(np.loadtxt(tdir / "scores" / f"{seq.name}.txt"), [1.0] + [0.5] * 8)
    assert seen == [(s.name, f, (48, 64, 3)) for s in fake for f in range(9)]


def test_resumes_without_rerunning_finished_sequences(fake, tmp_path):
    tracker = CentroidTracker()
    run_ope(tracker, fake, tmp_path, progress=False)
    assert tracker.inits == 4
    assert run_ope(tracker, fake, tmp_path, progress=False) == fake.names
    assert tracker.inits == 4
    run_ope(tracker, fake, tmp_path, overwrite=True, progress=False)
    assert tracker.inits == 8


def test_an_interrupted_sequence_never_looks_finished_and_its_leftovers_go(fake, tmp_path):
    tdir = results_io.tracker_dir(tmp_path, "OTB100", "centroid")
    (tdir / "times").mkdir(parents=True)
    (tdir / "Bolt.txt.tmp4242").write_text("1,2,3\n")  # a boxes file cut short
    (tdir / "times" / "Bolt_time.txt").write_text("0.1\n")  # written before the crash
    assert not results_io.is_finished(tdir, "Bolt")
    tracker = CentroidTracker()
    run_ope(tracker, fake, tmp_path, progress=False)
    assert tracker.inits == 4
    assert not list(tdir.rglob("*.tmp*"))
    assert len(np.loadtxt(tdir / "times" / "Bolt_time.txt")) == 9


def test_a_failing_sequence_is_reported_and_the_others_are_kept(tmp_path):
    dataset = make_fake_otb(tmp_path / "otb", failing="Boy")
    with pytest.raises(OPEError, match="Boy: ValueError: marker pixel seen") as info:
        run_ope(CentroidTracker(fail_on_marker=True), dataset, tmp_path / "res", progress=False)
    assert info.value.finished == ["Basketball", "Bolt", "Car4"] and list(info.value.failures) == ["Boy"]
    tdir = results_io.tracker_dir(tmp_path / "res", "OTB100", "centroid")
    assert sorted(p.name for p in tdir.glob("*.txt")) == ["Basketball.txt", "Bolt.txt", "Car4.txt"]


def test_rank_split_takes_every_world_size_th_sequence(fake, tmp_path):
    assert run_ope(centroid_factory, fake, tmp_path, rank=1, world_size=2, progress=False) == ["Bolt", "Car4"]
    with pytest.raises(ValueError, match="rank 2"):
        run_ope(centroid_factory, fake, tmp_path, rank=2, world_size=2, progress=False)


def test_worker_processes_give_byte_identical_results(fake, tmp_path):
    run_ope(centroid_factory, fake, tmp_path / "one", progress=False)
    run_ope(centroid_factory, fake, tmp_path / "two", num_workers=2, progress=False)
    assert read_all_boxes(tmp_path / "one", fake) == read_all_boxes(tmp_path / "two", fake)


RANK_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from test_runner import centroid_factory, make_fake_otb
from ientrack.eval.runner import run_ope
print(run_ope(centroid_factory, make_fake_otb({root!r}, write=False), {results!r}, progress=False))
"""


def test_two_torchrun_style_ranks_together_equal_one_process(fake, tmp_path):
    script = RANK_SCRIPT.format(tests=str(Path(__file__).parent), root=str(tmp_path / "otb"),
                                results=str(tmp_path / "ranks"))
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "RANK": str(r), "WORLD_SIZE": "2"}) for r in range(2)]
    outputs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert outputs == ["['Basketball', 'Boy']", "['Bolt', 'Car4']"]
    run_ope(centroid_factory, fake, tmp_path / "single", progress=False)
    assert read_all_boxes(tmp_path / "ranks", fake) == read_all_boxes(tmp_path / "single", fake)


def test_a_zoo_spec_is_named_without_building_it(tmp_path, monkeypatch):
    (tmp_path / "my_mil.yaml").write_text("type: opencv\nalgorithm: mil\n")
    monkeypatch.setenv("IENTRACK_ZOO", str(tmp_path))
    assert spec_name("my_mil") == "my_mil"
    assert spec_name(TrackerSpec("my_mil", {"name": "renamed"})) == "renamed"
    assert TrackerSpec("my_mil", {"name": "renamed"}).build().name == "renamed"


def test_results_of_other_settings_or_weights_are_not_reused(fake, tmp_path, monkeypatch):
    monkeypatch.setitem(TRACKER_TYPES, "centroid", "test_runner:CentroidTracker")
    monkeypatch.setenv("IENTRACK_ZOO", str(tmp_path))
    (tmp_path / "c.yaml").write_text("type: centroid\nweights: w.pt\n")
    (tmp_path / "w.pt").write_bytes(b"first")

    def run(**overrides):
        return run_ope(TrackerSpec("c", overrides), fake, tmp_path / "res", progress=False, overwrite=False)

    assert len(run()) == 4 and len(run(device="cpu")) == 4  # the device does not change results
    (tmp_path / "w.pt").write_bytes(b"retrained")
    with pytest.raises(StaleResultsError, match=r"other settings \(weights changed"):
        run()
    (tmp_path / "w.pt").write_bytes(b"first")
    with pytest.raises(StaleResultsError, match=r"\(fail_on_marker changed"):
        run(fail_on_marker=True)
    tdir = results_io.tracker_dir(tmp_path / "res", "OTB100", "c")
    before = (tdir / "tracker.json").read_text()
    (tmp_path / "w.pt").write_bytes(b"retrained")
    run_ope(TrackerSpec("c"), fake, tmp_path / "res", progress=False, overwrite=True)  # reruns, records anew
    assert (tdir / "tracker.json").read_text() != before and len(run()) == 4


def test_a_run_that_fails_before_its_first_result_leaves_no_record_and_a_bare_record_is_taken_over(
        fake, tmp_path, monkeypatch):
    monkeypatch.setitem(TRACKER_TYPES, "centroid", "test_runner:CentroidTracker")
    monkeypatch.setenv("IENTRACK_ZOO", str(tmp_path))
    (tmp_path / "c.yaml").write_text("type: centroid\nweights: w.pt\n")
    (tmp_path / "w.pt").write_bytes(b"first")
    tdir = results_io.tracker_dir(tmp_path / "res", "OTB100", "c")
    with pytest.raises(ValueError, match="unknown setting"):  # not built: nothing tracked, nothing recorded
        run_ope(TrackerSpec("c", {"no_such_setting": 1}), fake, tmp_path / "res", progress=False)
    assert not (tdir / "tracker.json").exists()
    tdir.mkdir(parents=True, exist_ok=True)
    (tdir / "tracker.json").write_text('{"name": "c", "weights": {"sha256": "of other weights"}}\n')
    assert len(run_ope(TrackerSpec("c"), fake, tmp_path / "res", progress=False)) == 4  # no result: taken over
    assert "of other weights" not in (tdir / "tracker.json").read_text()
    mode = (tdir / "tracker.json").stat().st_mode & 0o777
    assert mode == (tdir / "Boy.txt").stat().st_mode & 0o777 == 0o666 & ~current_umask()


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
