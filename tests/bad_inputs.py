"""Every bad input the project knows, as a table: how to build it, the command line, the exit code and the one
line a user must see (``tests/test_bad_inputs.py`` runs each through the real command line).

A case's ``build(tmp)`` writes its input under the folder ``tmp`` (the command's working directory) and returns
the command line: the tool's file under ``tools/`` and its arguments. Datasets are generated, a few frames
of 96 x 72 pixels, so that the corpus needs no downloaded data and runs in seconds.
"""
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence

import cv2
import numpy as np

FRAMES = 6
SIZE = (72, 96)  # height, width


@dataclass(frozen=True)
class Case:
    """``build(tmp) -> [tool, *args]``; the command exits ``code`` with ``line`` (a regex) as the one line of
    stderr that is not a warning; ``warning`` (a regex) is the one warning expected, if any; ``kept`` are
    paths (under ``tmp``) that must exist afterwards (finished work), ``absent`` paths that must not."""

    id: str
    build: Callable[[Path], List[str]]
    code: int
    line: Optional[str]
    warning: Optional[str] = None
    kept: Sequence[str] = field(default_factory=tuple)
    absent: Sequence[str] = field(default_factory=tuple)
    needs_no_cuda: bool = False


# ------------------------------------------------------------------------------------------------ inputs
def square_box(i: int) -> List[float]:
    """Where the bright square of frame ``i`` (0-based) is: ``x, y, w, h``."""
    return [20.0 + 2 * i, 20.0 + i, 24.0, 18.0]


def write_frames(folder: Path, n: int = FRAMES, digits: int = 8) -> List[Path]:
    """``n`` frames of a bright square moving on a dark background, numbered from 1."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        image = np.full((*SIZE, 3), 30, np.uint8)
        x, y, w, h = (int(v) for v in square_box(i))
        image[y:y + h, x:x + w] = (230, 200, 90)
        paths.append(folder / f"{i + 1:0{digits}d}.jpg")
        cv2.imwrite(str(paths[-1]), image)
    return paths


def write_rows(path: Path, rows) -> None:
    path.write_text("".join(",".join(str(v) for v in row) + "\n" for row in rows))


def got10k_val(tmp: Path, names=("a", "b"), first_box=None) -> Path:
    """A GOT-10k ``val`` split of the sequences ``names`` (with ``list.txt``); ``first_box`` replaces the first
    row of the first sequence's ground truth."""
    root = tmp / "got10k"
    for k, name in enumerate(names):
        write_frames(root / "val" / name)
        rows = [square_box(i) for i in range(FRAMES)]
        if k == 0 and first_box is not None:
            rows[0] = first_box
        write_rows(root / "val" / name / "groundtruth.txt", rows)
    (root / "val" / "list.txt").write_text("\n".join(names) + "\n")
    return root


def test_py(tmp: Path, dataset: str, root, *extra, tracker: str = "opencv_mil") -> List[str]:
    return ["test.py", "--tracker", tracker, "--dataset", dataset, "--dataset-root", str(root), "--no-progress",
            "--results-dir", str(tmp / "results"), "--report-dir", str(tmp / "reports"), *extra]


def got10k_case(*extra, tracker="opencv_mil", first_box=None, names=("a", "b"), change=None):
    """A builder: the GOT-10k split, changed by ``change(root)``, run through tools/test.py."""
    def build(tmp):
        root = got10k_val(tmp, names, first_box)
        if change is not None:
            change(root / "val")
        return test_py(tmp, "GOT10k-val", root, *extra, tracker=tracker)
    return build


def remove(*parts):
    return lambda split: split.joinpath(*parts).unlink()


def overwrite(data: bytes, *parts):
    return lambda split: split.joinpath(*parts).write_bytes(data)


def truncate(*parts):
    def change(split):
        path = split.joinpath(*parts)
        path.write_bytes(path.read_bytes()[:200])
    return change


def replace_line(line: int, text: str, *parts):
    def change(split):
        path = split.joinpath(*parts)
        lines = path.read_text().splitlines()
        lines[line - 1] = text
        path.write_text("\n".join(lines) + "\n")
    return change


def vot_folder_missing_a_frame(tmp):
    """A VOT folder layout without list.txt: ``<root>/s/color/00000001.jpg``, frame 4 missing."""
    root = tmp / "vot"
    write_frames(root / "s" / "color")
    write_rows(root / "s" / "groundtruth.txt", [square_box(i) for i in range(FRAMES)])
    (root / "s" / "color" / "00000004.jpg").unlink()
    return test_py(tmp, "VOT", root)


def own_folder_missing_a_frame(tmp):
    """A user's folder of sequences (OTB layout, numbered from 0), frame 2 of ``s`` missing."""
    write_frames(tmp / "mine" / "s" / "img", digits=5)
    write_rows(tmp / "mine" / "s" / "groundtruth_rect.txt", [square_box(i) for i in range(FRAMES)])
    (tmp / "mine" / "s" / "img" / "00002.jpg").unlink()
    return test_py(tmp, str(tmp / "mine"), tmp)


def pysot_json(tmp, change=None):
    """A pysot-style JSON of one sequence ``s`` (frames ``s/0001.jpg``...), changed by ``change(root)``."""
    frames = write_frames(tmp / "frames" / "s", digits=4)
    entry = {"name": "s", "img_names": [f"s/{p.name}" for p in frames], "init_rect": square_box(0),
             "gt_rect": [square_box(i) for i in range(FRAMES)]}
    (tmp / "Tiny.json").write_text(json.dumps({"s": entry}))
    if change is not None:
        change(tmp)
    return test_py(tmp, str(tmp / "Tiny.json"), tmp / "frames")


def evil_checkpoint(path: Path, marker: Path) -> Path:
    """A weights file whose pickle would run ``touch marker`` if loaded without ``weights_only``."""
    import torch

    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    torch.save({"state_dict": {"w": torch.zeros(1)}, "hook": Evil()}, path)
    return path


def with_snapshot(make):
    """A builder: the GOT-10k split run by siamfc with ``--snapshot`` the file ``make(tmp)`` writes."""
    def build(tmp):
        return got10k_case("--snapshot", str(make(tmp)), tracker="siamfc")(tmp)
    return build


def junk_file(name: str, data: bytes):
    def make(tmp):
        (tmp / name).write_bytes(data)
        return tmp / name
    return make


def config_file(text: str):
    """A builder: the GOT-10k split run with the tracker config ``text``."""
    def build(tmp):
        (tmp / "bad.yaml").write_text(text)
        return got10k_case(tracker=str(tmp / "bad.yaml"))(tmp)
    return build


def under_a_file(flag: str, folder: str):
    def build(tmp):
        (tmp / "a_file").write_text("")
        args = got10k_case()(tmp)
        return args[:args.index(flag) + 1] + [str(tmp / folder)] + args[args.index(flag) + 2:]
    return build


def dangling_link(tmp):
    (tmp / "results").symlink_to(tmp / "gone")
    return got10k_case()(tmp)


def harness(dataset="GOT10k-val", change=None, *extra):
    def build(tmp):
        root = got10k_val(tmp)
        if change is not None:
            change(root / "val")
        return test_py(tmp, dataset, root, "--harness", "got10k", *extra)
    return build


def check_equivariance(make):
    def build(tmp):
        return ["check_equivariance.py", "--backbone", "alexnet", "--size", "127", "--checkpoint", str(make(tmp))]
    return build


def bank_responses(*extra, tracker="ien_siamfc"):
    def build(tmp):
        args = pysot_json(tmp)
        return ["bank_responses.py", "--tracker", tracker, "--dataset", args[4], "--root", args[6],
                "--sequence", "s", *extra]
    return build


RANDOM_BYTES = np.random.default_rng(0).integers(0, 256, 300, dtype=np.uint8).tobytes()
RESULTS = "results/GOT10k-val/opencv_mil"
SIAMFC_RESULTS = "results/GOT10k-val/siamfc"

# ------------------------------------------------------------------------------------------------ the table
CASES = [
    # a frame missing inside a sequence: never scored against shifted ground truth
    Case("got10k-frame-missing", got10k_case(tracker="siamfc", names=("seq1",), change=remove("seq1", "00000003.jpg")),
         1, r"seq1 \(1 frame missing in seq1/: 00000003\.jpg\)", absent=[SIAMFC_RESULTS]),
    Case("got10k-frame-missing-allow-partial", got10k_case("--allow-partial", change=remove("a", "00000003.jpg")),
         0, None, warning=r"1 of 2 sequences of GOT10k-val .*: a \(1 frame missing in a/: 00000003\.jpg\)",
         kept=[f"{RESULTS}/b.txt"], absent=[f"{RESULTS}/a.txt"]),
    Case("vot-folder-frame-missing", vot_folder_missing_a_frame, 1, r"s \(1 frame missing in color/: 00000004\.jpg\)"),
    Case("own-folder-frame-missing", own_folder_missing_a_frame, 1, r"s \(1 frame missing in img/: 00002\.jpg\)"),
    Case("json-frame-missing", lambda tmp: pysot_json(tmp, lambda t: (t / "frames" / "s" / "0003.jpg").unlink()),
         1, r"s \(1 frames missing: .*0003\.jpg\)"),
    # ground truth that cannot be used
    Case("gt-unparsable-line", got10k_case(change=replace_line(3, "1,2,x,4", "a", "groundtruth.txt")),
         1, r"groundtruth\.txt, line 3: cannot parse '1,2,x,4'"),
    Case("gt-empty", got10k_case(change=overwrite(b"", "a", "groundtruth.txt")), 1,
         r"groundtruth\.txt: the file is empty"),
    Case("json-invalid", lambda tmp: pysot_json(tmp, lambda t: (t / "Tiny.json").write_text("{not json")),
         1, r"Tiny\.json: not valid JSON"),
    Case("init-box-zero", got10k_case(first_box=[10, 10, 0, 0]), 1,
         r"a \(the initial box has no area: \[10\.0, 10\.0, 0\.0, 0\.0\]\)"),
    Case("init-box-negative", got10k_case(first_box=[10, 10, -5, 8]), 1, r"a \(the initial box has no area"),
    Case("init-box-nan", got10k_case(first_box=["nan"] * 4), 1, r"a \(the initial box must be 4 finite numbers"),
    Case("init-box-nan-allow-partial", got10k_case("--allow-partial", first_box=["nan"] * 4), 0, None,
         warning=r"a \(the initial box must be 4 finite numbers", kept=[f"{RESULTS}/b.txt"]),
    Case("init-box-outside-frame", got10k_case(first_box=[500, 400, 10, 10]), 1,
         r"1 sequence\(s\) failed .*a: ValueError: .*the initial box .* lies outside the 96x72 frame",
         kept=[f"{RESULTS}/b.txt"]),
    # frames that cannot be read: the other sequences' results are kept
    Case("frame-truncated", got10k_case(change=truncate("b", "00000003.jpg")), 1,
         r"1 sequence\(s\) failed .*b: FrameError: frame is truncated \(a JPEG without its end marker\): "
         r".*00000003\.jpg",
         kept=[f"{RESULTS}/a.txt"]),
    Case("frame-random-bytes", got10k_case(change=overwrite(RANDOM_BYTES, "b", "00000003.jpg")), 1,
         r"b: FrameError: frame is not an image \(it starts with [0-9a-f ]+, no image format's signature\)",
         kept=[f"{RESULTS}/a.txt"]),
    Case("frame-empty-file", got10k_case(change=overwrite(b"", "b", "00000002.jpg")), 1,
         r"b: FrameError: frame is not an image \(the file is empty\)", kept=[f"{RESULTS}/a.txt"]),
    # datasets and trackers that are not there
    Case("dataset-root-missing", lambda tmp: test_py(tmp, "OTB100", tmp / "none"), 1,
         r"dataset OTB100 not found: .*none does not exist"),
    Case("dataset-unknown", lambda tmp: test_py(tmp, "NoSuchSet", tmp), 1, r"unknown dataset 'NoSuchSet'; known: "),
    Case("tracker-unknown", got10k_case(tracker="no_such_tracker"), 1, r"unknown tracker 'no_such_tracker'"),
    Case("config-malformed-yaml", config_file("type: siamfc\nname: [broken\nwindow: 3\n"), 1,
         r"bad\.yaml, line 3: not valid YAML"),
    Case("config-not-a-mapping", config_file("- siamfc\n"), 1, r"bad\.yaml: expected 'setting: value' lines"),
    Case("config-unknown-setting", config_file("type: siamfc\nrefine_window: 30\n"), 1,
         r"bad\.yaml' \(type siamfc\): unknown setting\(s\) refine_window"),
    # weights files: never loaded in a way that runs code, never a torch essay, no provenance left behind
    Case("snapshot-missing", with_snapshot(lambda tmp: tmp / "missing.pt"), 1, r"weights file .*missing\.pt not found"),
    Case("snapshot-random-bytes", with_snapshot(junk_file("junk.pt", RANDOM_BYTES)), 1,
         r"junk\.pt: not a safe, readable checkpoint: it is neither the zip archive torch\.save writes nor a pickle$",
         absent=[f"{SIAMFC_RESULTS}/tracker.json"]),
    Case("snapshot-runs-code", with_snapshot(lambda tmp: evil_checkpoint(tmp / "evil.pt", tmp / "pwned")), 1,
         r"evil\.pt: not a safe, readable checkpoint: it asks for posix\.system when loaded, .* so it is refused$",
         absent=["pwned", f"{SIAMFC_RESULTS}/tracker.json"]),
    # folders results cannot go to
    Case("results-dir-under-a-file", under_a_file("--results-dir", "a_file/results"), 1,
         r"cannot write results in .*a_file/results: .*a_file is a file, not a folder$"),
    Case("report-dir-is-a-file", under_a_file("--report-dir", "a_file"), 1,
         r"cannot write reports in .*a_file: .*a_file is a file, not a folder$", absent=[RESULTS]),
    Case("results-dir-dangling-link", dangling_link, 1,
         r"cannot write results in .*results: .*results is a link to .*gone, which does not exist$"),
    Case("cuda-missing", got10k_case("--device", "cuda"), 1, r"device 'cuda' requested but torch finds no CUDA device",
         needs_no_cuda=True),
    # the GOT-10k toolkit's harness: what it needs is checked before any tracking
    Case("harness-dataset-unknown", harness("VOT2018"), 1, r"--harness got10k runs the GOT-10k toolkit's own "
         r"experiments, which exist for .*, not 'VOT2018'"),
    Case("harness-list-missing", harness(change=remove("list.txt")), 1,
         r"the GOT-10k toolkit reads the sequences of GOT10k-val from .*val/list\.txt, which does not exist"),
    Case("harness-meta-missing", harness(), 1,
         r"the GOT-10k toolkit cannot use 2 of the sequences of GOT10k-val under .*: a \(meta_info\.ini missing\)",
         absent=["results/GOT10k-val"]),
    Case("harness-vis", harness("GOT10k-val", None, "--vis"), 1, r"--vis draws with ientrack's own runner"),
    # the other tools
    Case("check-equivariance-random-bytes", check_equivariance(junk_file("junk.pt", RANDOM_BYTES)), 1,
         r"junk\.pt: not a safe, readable checkpoint: it is neither"),
    Case("check-equivariance-runs-code",
         check_equivariance(lambda tmp: evil_checkpoint(tmp / "e.pt", tmp / "pwned")), 1,
         r"e\.pt: not a safe, readable checkpoint: it asks for posix\.system", absent=["pwned"]),
    Case("cls-config-malformed-yaml", lambda tmp: (tmp / "cls.yaml").write_text("dataset: rotmnist\nmodel: [cnn\n")
         and ["train_cls.py", "--config", str(tmp / "cls.yaml"), "--out", str(tmp / "run")], 1,
         r"cls\.yaml, line 3: not valid YAML"),
    Case("demo-missing-video", lambda tmp: ["demo.py", "--source", str(tmp / "missing.mp4"), "--box", "1,1,5,5",
                                            "--no-window", "--output", str(tmp / "out.mp4")], 1, r"no such video file"),
    Case("bank-not-a-bank-tracker", bank_responses(tracker="opencv_mil"), 1, r"opencv_mil: not a bank"),
    Case("bank-snapshot-missing", bank_responses("--snapshot", "missing.pt"), 1, r"missing\.pt"),
    Case("eval-no-results", lambda tmp: ["eval.py", "--dataset", "GOT10k-val", "--dataset-root", str(got10k_val(tmp)),
                                         "--results-dir", str(tmp / "results")], 1, r"no tracker results under"),
]
