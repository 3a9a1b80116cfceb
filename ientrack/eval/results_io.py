"""Result files in the GOT-10k toolkit's layout, plus our extras, written atomically.

``<results_dir>/<dataset>/<tracker>/``:
  ``<seq>.txt``                 boxes ``x,y,w,h``, one row per frame (written last: it marks completion)
  ``times/<seq>_time.txt``      seconds spent in ``init`` / ``update`` per frame
  ``polygons/<seq>.txt``        8 numbers per frame (ours)
  ``angles/<seq>.txt``          degrees relative to frame 0 (ours)
  ``scores/<seq>.txt``          confidence per frame (ours)
Readers also accept the GOT-10k benchmark's own layout ``<seq>/<seq>_001.txt`` (and
``<seq>/<seq>_time.txt``), and comma, tab or space delimiters, as other toolkits write them.
"""
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

BOX_FORMAT = "%.3f"  # the GOT-10k toolkit's own precision
TIME_FORMAT = "%.8f"
EXTRAS = {"polygons": 8, "angles": 1, "scores": 1}
TMP_MARK = ".tmp"


class ResultsError(ValueError):
    """A results file that is missing or malformed; the message names the file."""


@dataclass
class SequenceResults:
    """What a tracker left for one sequence; extras are ``None`` where their files are absent."""

    boxes: np.ndarray
    times: Optional[np.ndarray] = None
    polygons: Optional[np.ndarray] = None
    angles: Optional[np.ndarray] = None
    scores: Optional[np.ndarray] = None


def tracker_dir(results_dir, dataset_name: str, tracker_name: str) -> Path:
    """``<results_dir>/<dataset>/<tracker>``."""
    return Path(results_dir) / dataset_name / tracker_name


def videos_dir(results_dir, dataset: str, tracker: str):
    """Where ``tools/test.py --vis`` writes a tracker's videos: ``<results_dir>/<dataset>/<tracker>/videos``."""
    return tracker_dir(results_dir, dataset, tracker) / "videos"


def video_folders(results_dir, dataset: str, trackers) -> list:
    """The :func:`videos_dir` of ``trackers`` that exist (videos were written where no display showed them)."""
    return [str(folder) for folder in (videos_dir(results_dir, dataset, name) for name in trackers) if folder.is_dir()]


def boxes_path(tdir, seq_name: str) -> Path:
    return Path(tdir) / f"{seq_name}.txt"


def times_path(tdir, seq_name: str) -> Path:
    return Path(tdir) / "times" / f"{seq_name}_time.txt"


def extra_path(tdir, kind: str, seq_name: str) -> Path:
    return Path(tdir) / kind / f"{seq_name}.txt"


def _all_paths(tdir, seq_name):
    return [times_path(tdir, seq_name)] + [extra_path(tdir, k, seq_name) for k in EXTRAS] + [boxes_path(tdir, seq_name)]


def is_finished(tdir, seq_name: str) -> bool:
    """A sequence is finished when its boxes file exists (it is written last, atomically)."""
    return boxes_path(tdir, seq_name).is_file()


def remove_partial(tdir, seq_name: str) -> None:
    """Delete temporary files an interrupted run left for ``seq_name``."""
    for path in _all_paths(tdir, seq_name):
        for leftover in path.parent.glob(path.name + TMP_MARK + "*"):
            leftover.unlink(missing_ok=True)


def _write_atomic(path: Path, rows: np.ndarray, fmt: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}{TMP_MARK}{os.getpid()}")
    np.savetxt(tmp, rows, fmt=fmt, delimiter=",")
    os.replace(tmp, path)


def write_sequence(tdir, seq_name: str, boxes, times, polygons=None, angles=None, scores=None) -> None:
    """Write one sequence's results, each file atomically, the boxes file last."""
    _write_atomic(times_path(tdir, seq_name), np.reshape(times, (-1, 1)), TIME_FORMAT)
    extras = {"polygons": polygons, "angles": angles, "scores": scores}
    for kind, values in extras.items():
        if values is not None:
            _write_atomic(extra_path(tdir, kind, seq_name), np.reshape(values, (len(boxes), -1)), BOX_FORMAT)
    _write_atomic(boxes_path(tdir, seq_name), np.reshape(boxes, (-1, 4)), BOX_FORMAT)


def read_table(path, columns: int, rows: Optional[int] = None) -> np.ndarray:
    """Numbers of a text file (comma, tab or space separated) as a ``rows x columns`` array.

    Raises :class:`ResultsError` naming the file on a wrong column or row count or a bad number.
    """
    values = []
    with open(path) as f:
        for line_no, line in enumerate(f, 1):
            fields = [t for t in re.split(r"[,\s]+", line.strip()) if t]
            if not fields:
                continue
            if len(fields) != columns:
                raise ResultsError(f"{path}, line {line_no}: {len(fields)} values, expected {columns}")
            try:
                values.append([float(t) for t in fields])
            except ValueError as error:
                raise ResultsError(f"{path}, line {line_no}: not a number ({error})") from None
    if rows is not None and len(values) != rows:
        raise ResultsError(f"{path}: {len(values)} rows, but the sequence has {rows} frames")
    return np.asarray(values, dtype=np.float64).reshape(-1, columns)


def _first_existing(*paths):
    return next((p for p in paths if p.is_file()), None)


def read_sequence(tdir, seq_name: str, n_frames: int) -> SequenceResults:
    """Read one sequence's results (boxes required, times and extras where present)."""
    tdir = Path(tdir)
    got10k_dir = tdir / seq_name
    path = _first_existing(boxes_path(tdir, seq_name), got10k_dir / f"{seq_name}_001.txt")
    if path is None:
        raise ResultsError(f"no results for sequence {seq_name}: {boxes_path(tdir, seq_name)} is missing")
    out = SequenceResults(boxes=read_table(path, 4, n_frames))
    time_file = _first_existing(times_path(tdir, seq_name), got10k_dir / f"{seq_name}_time.txt")
    if time_file is not None:
        out.times = _read_times(time_file, n_frames)
    for kind, width in EXTRAS.items():
        extra = extra_path(tdir, kind, seq_name)
        if extra.is_file():
            table = read_table(extra, width, n_frames)
            setattr(out, kind, table if width > 1 else table[:, 0])
    return out


def _read_times(path, n_frames) -> np.ndarray:
    """Per-frame times; of the GOT-10k benchmark's repetition columns, the first."""
    with open(path) as f:
        first = next((line for line in f if line.strip()), "")
    columns = max(1, len([t for t in re.split(r"[,\s]+", first.strip()) if t]))
    return read_table(path, columns, n_frames)[:, 0]
