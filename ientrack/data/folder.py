"""A user's own sequences, in the OTB / UAV layout, loaded by path: ``<folder>/<sequence>/img/00001.jpg ...``
with ``groundtruth_rect.txt`` (one ``x,y,w,h`` row per frame, 1-based as OTB's, ``NaN`` where the target is
out of view: such frames are not scored, and no tracker is re-initialised there) and, optionally,
``polygons.txt`` (8 numbers per row, a rotated box, VOT style).

Row ``i`` belongs to the frame numbered ``first + i``: ``first`` is 0 where ``img/`` holds a frame numbered 0,
else 1.
A subset is chosen by a list file (one sequence name per line) or by a split column of a ``.tsv`` table with a
``name`` column (``index.tsv`` of ``name split ...``): ``<folder>@<split>`` on the command line.
"""
import csv
import os
from pathlib import Path
from typing import List, Optional

import numpy as np

from ientrack.data.errors import AnnotationError, DatasetNotFoundError, load_present, required
from ientrack.data.frame_numbers import frames_for_rows
from ientrack.data.gt_files import read_boxes, read_rows
from ientrack.data.sequence import Dataset, Sequence

GT_FILE = "groundtruth_rect.txt"
POLYGONS_FILE = "polygons.txt"
INDEX_FILE = "index.tsv"


def split_names(table: Path, split: str) -> List[str]:
    """The names of the rows of ``table`` (tab-separated, with ``name`` and ``split`` columns) in ``split``."""
    with open(table, "r", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if not rows or "name" not in rows[0] or "split" not in rows[0]:
        raise AnnotationError(f"{table}: expected a tab-separated table with 'name' and 'split' columns")
    names = [row["name"] for row in rows if row["split"] == split]
    if not names:
        known = sorted({row["split"] for row in rows})
        raise DatasetNotFoundError(f"{table}: no sequence in split {split!r}; its splits: {', '.join(known)}")
    return names


def _chosen(folder: Path, split: Optional[str], list_file: Optional[Path]) -> List[str]:
    if list_file is not None:
        return [line.strip() for line in list_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    if split is not None:
        return split_names(folder / INDEX_FILE, split)
    return sorted(p.name for p in folder.iterdir() if (p / GT_FILE).is_file())


def _load_sequence(folder: Path, name: str) -> Sequence:
    seq_dir = str(required(str(folder / name), name, "folder", folder=True))
    gt_path = required(os.path.join(seq_dir, GT_FILE), name, GT_FILE)
    img = required(os.path.join(seq_dir, "img"), name, "no frames in img/", folder=True)
    boxes = read_boxes(gt_path)
    frames = frames_for_rows(img, len(boxes), gt_path, first=None, sequence=name)
    polygons_path = os.path.join(seq_dir, POLYGONS_FILE)
    polygons = read_rows(polygons_path, widths=(8,)) if os.path.isfile(polygons_path) else None
    if polygons is not None and len(polygons) != len(boxes):
        raise AnnotationError(f"{polygons_path}: {len(polygons)} rows, but {gt_path} has {len(boxes)}")
    return Sequence(name=name, frame_paths=frames, gt=boxes[:len(frames)], one_based=True,
                    polygons=None if polygons is None else np.array(polygons[:len(frames)]))


def load_folder(path, split: Optional[str] = None, allow_partial: bool = False,
                name: Optional[str] = None) -> Dataset:
    """The sequences under the folder ``path`` (or those a list file ``path`` names, beside it), or of its
    ``split`` in ``<folder>/index.tsv``. The dataset is named after the folder (``real``, ``real@val``)."""
    path = Path(path)
    list_file = path if path.is_file() else None
    folder = path.parent if list_file is not None else path
    if not folder.is_dir():
        raise DatasetNotFoundError(f"sequence folder {folder} does not exist")
    name = name or (path.stem if list_file is not None else folder.name) + (f"@{split}" if split else "")
    names = _chosen(folder, split, list_file)
    return Dataset(name, load_present(name, "FOLDER", folder, names, lambda s: _load_sequence(folder, s),
                                      allow_partial))
