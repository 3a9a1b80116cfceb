"""Ground truth from a pysot-style annotation JSON (``OTB100.json``, ``OTB2015.json``, ``VOT2018.json``...):
``{key: {"name" | "video_dir", "init_rect", "gt_rect", "img_names" | "image_files", "attr"}}``.

``img_names`` are paths relative to the frames root (``Basketball/img/0001.jpg``); bare ``image_files``
(``0001.jpg``) are looked up in ``<frames_root>/<video_dir or name>/img/`` (or without ``img/``).
Keys and field names may be in any case (``carDark``, ``gtRect``); ``name`` gives the sequence its name, and
two targets of one video (``jogging_1``, ``jogging_2``, both named ``Jogging``) become ``Jogging.1`` / ``.2``.
"""
import json
import os
import re
from pathlib import Path
from typing import Optional

import numpy as np

from ientrack.data.errors import AnnotationError, DatasetNotFoundError, listing, present_sequences
from ientrack.data.gt_files import matched_length
from ientrack.data.sequence import Dataset, Sequence

_ONE_BASED_PREFIXES = ("OTB", "UAV", "LASOT", "TB")


def _field(entry: dict, *names):
    """The first of ``names`` present in ``entry``, compared without case and underscores."""
    folded = {k.lower().replace("_", ""): v for k, v in entry.items()}
    for name in names:
        if name.lower().replace("_", "") in folded:
            return folded[name.lower().replace("_", "")]
    return None


def _sequence_name(key: str, entry: dict, shared: bool) -> str:
    name = _field(entry, "name", "video_dir") or key
    target = re.search(r"[_.\-](\d+)$", key)
    return f"{name}.{target.group(1)}" if shared and target else name


def _frame_paths(frames_root: Path, key: str, entry: dict):
    rel = _field(entry, "img_names")
    if rel is not None:
        return [str(frames_root / p) for p in rel]
    files = _field(entry, "image_files")
    if files is None:
        raise AnnotationError(f"sequence {key!r} has neither 'img_names' nor 'image_files'")
    folders = [f for f in (_field(entry, "video_dir"), _field(entry, "name"), key) if f]
    candidates = [frames_root / f / sub for f in folders for sub in ("img", "")]
    folder = next((c for c in candidates if (c / files[0]).is_file()), candidates[0])
    return [str(folder / f) for f in files]


def _ground_truth(path: str, key: str, entry: dict):
    gt = _field(entry, "gt_rect")
    if gt is None:
        raise AnnotationError(f"{path}: sequence {key!r} has no 'gt_rect'")
    width = {len(np.atleast_1d(row)) for row in gt}
    if not width <= {4, 8} or len(width) != 1:
        raise AnnotationError(f"{path}: sequence {key!r}: 'gt_rect' rows must all hold 4 or all hold 8 numbers")
    gt = np.array(gt, dtype=np.float64)
    return (gt, None) if gt.shape[1] == 4 else (None, gt)


def load_pysot_json(path, frames_root=None, name: Optional[str] = None, allow_partial: bool = False,
                    one_based: Optional[bool] = None) -> Dataset:
    """Load the sequences of a pysot-style JSON; frames under ``frames_root`` (default: the JSON's folder).

    Row ``i`` of ``gt_rect`` belongs to image ``i`` of the sequence's list (the shorter of the two wins, with a
    warning). Sequences with any frame file absent raise one ``DatasetNotFoundError`` listing them
    (with ``allow_partial``, they are left out with a warning). ``one_based`` defaults to True for OTB / UAV /
    LaSOT files (by file name: their boxes are 1-based, as their Matlab toolkits wrote them), else False.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetNotFoundError(f"annotation JSON {path} does not exist")
    try:
        with open(path, "r", encoding="utf-8") as f:
            content = json.load(f)
    except json.JSONDecodeError as error:
        raise AnnotationError(f"{path}: not valid JSON: {error}") from None
    if not isinstance(content, dict):
        raise AnnotationError(f"{path}: expected an object mapping sequence keys to annotations")
    frames_root = Path(frames_root) if frames_root is not None else path.parent
    if one_based is None:
        one_based = path.stem.upper().startswith(_ONE_BASED_PREFIXES)
    names = [_field(e, "name", "video_dir") or k for k, e in content.items()]
    sequences = []
    for (key, entry), plain in zip(content.items(), names):
        boxes, polygons = _ground_truth(str(path), key, entry)
        frames = _frame_paths(frames_root, key, entry)
        n = matched_length(len(boxes if polygons is None else polygons), len(frames), f"{path}: sequence {key!r}")
        sequences.append(Sequence(
            name=_sequence_name(key, entry, shared=names.count(plain) > 1), frame_paths=frames[:n],
            gt=None if boxes is None else boxes[:n], polygons=None if polygons is None else polygons[:n],
            attributes=list(_field(entry, "attr") or []), one_based=one_based,
            init_box=None if _field(entry, "init_rect") is None else np.asarray(_field(entry, "init_rect"), float)))
    name = name or path.stem
    by_name = {s.name: s for s in sequences}
    return Dataset(name, present_sequences(name, "JSON", frames_root, list(by_name),
                                           lambda s: _missing_frames(by_name[s]), by_name.get, allow_partial))


def _missing_frames(sequence: Sequence) -> Optional[str]:
    if not sequence.frame_paths:
        return f"{sequence.name} (no image names)"
    absent = [p for p in sequence.frame_paths if not os.path.isfile(p)]
    return f"{sequence.name} ({len(absent)} frames missing: {listing(absent, 5)})" if absent else None
