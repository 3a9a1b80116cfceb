"""VOT (short-term, 2013-2019 editions) from ``<root>/list.txt`` and ``<root>/<seq>/groundtruth.txt`` with
frames in ``<seq>/color/*.jpg`` or ``<seq>/*.jpg``. Ground-truth rows hold 8 numbers (a rotated polygon) or
4 (an axis-aligned box); a file mixing both gives polygons throughout."""
import os
from typing import List

import numpy as np

from ientrack.data.errors import load_present, missing_root_error, required
from ientrack.data.frame_numbers import frames_for_rows
from ientrack.data.gt_files import read_rows, sequence_names
from ientrack.data.sequence import Dataset, Sequence
from ientrack.geometry import box_to_polygon


def _frames_dir(seq_dir: str) -> str:
    color = os.path.join(seq_dir, "color")
    return color if os.path.isdir(color) else seq_dir


def _tags(seq_dir: str) -> List[str]:
    """Names of the per-frame tag files (``occlusion.tag``, ``camera_motion.label``...) marking any frame."""
    tags = []
    for file in sorted(os.listdir(seq_dir)):
        stem, ext = os.path.splitext(file)
        if ext in (".tag", ".label"):
            with open(os.path.join(seq_dir, file), "r", encoding="utf-8") as f:
                if any(line.strip() not in ("", "0") for line in f):
                    tags.append(stem)
    return tags


def read_vot_groundtruth(path: str):
    """``(boxes, polygons)`` of a VOT ground-truth file; ``polygons`` is None when every row is a box."""
    rows = read_rows(path, widths=(4, 8))
    if all(len(r) == 4 for r in rows):
        return np.array(rows).reshape(-1, 4), None
    polygons = np.array([r if len(r) == 8 else box_to_polygon(r) for r in rows]).reshape(-1, 8)
    return None, polygons


def _load_sequence(root: str, name: str) -> Sequence:
    """The sequence ``root/name``, row ``i`` of its ground truth paired with frame ``i + 1`` by number (frame
    ``i`` where the frames are numbered from 0)."""
    seq_dir = required(os.path.join(root, name), name, "folder", folder=True)
    gt_path = required(os.path.join(seq_dir, "groundtruth.txt"), name, "groundtruth.txt")
    boxes, polygons = read_vot_groundtruth(gt_path)
    frames = frames_for_rows(_frames_dir(seq_dir), len(boxes if polygons is None else polygons), gt_path,
                             first=None, sequence=name)  # VOT counts from 1; a folder of one's own may from 0
    n = len(frames)
    return Sequence(name=name, frame_paths=frames, gt=None if boxes is None else boxes[:n],
                    polygons=None if polygons is None else polygons[:n], attributes=_tags(seq_dir))


def load_vot(root, name: str = "VOT", allow_partial: bool = False, family: str = "VOT") -> Dataset:
    """Load a VOT edition from ``root`` (the folder of ``list.txt``; without one, every subfolder holding a
    ``groundtruth.txt``). Polygons keep VOT's 0-based coordinates; ``gt`` is their bounding box."""
    if root is None or not os.path.isdir(root):
        raise missing_root_error(name, family, root)
    root = str(root)
    return Dataset(name, load_present(name, family, root, sequence_names(root),
                                      lambda seq: _load_sequence(root, seq), allow_partial))
