"""Reading the text files of tracking ground truth: one row of numbers per frame, separated by commas, tabs,
semicolons or spaces (OTB mixes them), ``nan`` allowed. Every failure names the file and the line."""
import os
import re
import warnings
from typing import List, Sequence

import numpy as np

from ientrack.data.errors import AnnotationError

_SEPARATORS = re.compile(r"[,\t; ]+")


def read_rows(path: str, widths: Sequence[int] = (4,)) -> List[np.ndarray]:
    """One float array per line of ``path``; each line must hold one of ``widths`` numbers.

    Trailing blank lines are ignored; a blank line followed by more rows is an error (it would shift every
    later frame), and so is a file without rows. NaN values (``nan``, ``NaN``) are kept as they are.
    """
    with open(path, "r", encoding="utf-8-sig") as f:
        lines = f.read().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise AnnotationError(f"{path}: the file is empty (expected one row per frame)")
    rows = []
    for number, line in enumerate(lines, start=1):
        fields = [x for x in _SEPARATORS.split(line.strip()) if x]
        try:
            values = np.array([float(x) for x in fields], dtype=np.float64)
        except ValueError:
            values = None
        if values is None or len(values) not in widths:
            expected = " or ".join(str(w) for w in widths)
            raise AnnotationError(f"{path}, line {number}: cannot parse {line!r}: expected {expected} numbers "
                                  "separated by commas, tabs or spaces")
        rows.append(values)
    return rows


def read_boxes(path: str) -> np.ndarray:
    """An ``N x 4`` array of ``(x, y, w, h)`` boxes from a ground-truth text file."""
    rows = read_rows(path, widths=(4,))
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


def read_flags(path: str) -> np.ndarray:
    """Per-frame 0/1 flags written on one line or one per line (LaSOT ``full_occlusion.txt``)."""
    with open(path, "r", encoding="utf-8") as f:
        fields = [x for x in _SEPARATORS.split(f.read().replace("\n", ",").strip()) if x]
    try:
        return np.array([int(float(x)) for x in fields], dtype=np.int64)
    except ValueError as error:
        raise AnnotationError(f"{path}: expected 0/1 flags separated by commas: {error}") from None


def matched_length(n_gt: int, n_frames: int, gt_path: str) -> int:
    """The number of frames a sequence keeps when its ground truth and its frames disagree in length.

    Policy (documented in datasets/README.md): keep the shorter of the two and warn, naming the file, so a
    ground truth with fewer rows than frames (OTB's Football1 before its official cut) evaluates only the
    annotated frames, and surplus rows are dropped.
    """
    if n_gt != n_frames:
        kept = min(n_gt, n_frames)
        warnings.warn(f"{gt_path}: {n_gt} ground-truth rows but {n_frames} frames; using the first {kept}",
                      stacklevel=3)
        return kept
    return n_gt


def list_images(folder: str, extensions=(".jpg", ".jpeg", ".png", ".bmp")) -> List[str]:
    """Sorted paths of the image files directly inside ``folder`` (names compared as plain strings)."""
    names = sorted(n for n in os.listdir(folder) if n.lower().endswith(extensions))
    return [os.path.join(folder, n) for n in names]


def sequence_names(folder: str) -> List[str]:
    """The sequence names in ``folder/list.txt`` (GOT-10k and VOT write one), else every subfolder of
    ``folder`` holding a ``groundtruth.txt``, sorted."""
    list_file = os.path.join(folder, "list.txt")
    if os.path.isfile(list_file):
        with open(list_file, "r", encoding="utf-8") as f:
            return [line.strip() for line in f if line.strip()]
    return sorted(n for n in os.listdir(folder) if os.path.isfile(os.path.join(folder, n, "groundtruth.txt")))
