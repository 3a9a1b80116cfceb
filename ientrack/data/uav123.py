"""UAV123 / UAV20L from the official layout ``<root>/data_seq/UAV123/<folder>/000001.jpg`` and
``<root>/anno/<UAV123|UAV20L>/<seq>.txt``.

Several UAV123 sequences are cut from one long video (``bird1_1``, ``bird1_2``... share ``bird1/``); their
frame ranges come from the ``uav123.json`` that the installed ``got10k`` package ships (the ranges of the
official toolkit's ``configSeqs``), so nothing is downloaded or retyped here."""
import json
import os
from functools import lru_cache
from importlib import resources
from typing import Dict

from ientrack.data.errors import listing, missing_root_error, present_sequences
from ientrack.data.gt_files import matched_length, read_boxes
from ientrack.data.sequence import Dataset, Sequence

VERSIONS = ("UAV123", "UAV20L")


@lru_cache(maxsize=1)
def uav_frame_ranges() -> Dict[str, Dict[str, dict]]:
    """``{version: {seq: {"folder_name", "start_frame", "end_frame"}}}`` from got10k's ``uav123.json``."""
    with resources.files("got10k.datasets").joinpath("uav123.json").open("r", encoding="utf-8") as f:
        return json.load(f)


def _frames_dir(root: str, meta: dict) -> str:
    return os.path.join(root, "data_seq", "UAV123", meta["folder_name"])


def _frame_paths(root: str, meta: dict):
    folder = _frames_dir(root, meta)
    return [os.path.join(folder, f"{i:06d}.jpg") for i in range(meta["start_frame"], meta["end_frame"] + 1)]


def _missing_parts(root: str, version: str, name: str, meta: dict):
    if not os.path.isfile(os.path.join(root, "anno", version, f"{name}.txt")):
        return f"{name} (anno/{version}/{name}.txt)"
    folder = _frames_dir(root, meta)
    if not os.path.isdir(folder):
        return f"{name} (folder data_seq/UAV123/{meta['folder_name']}/)"
    present = set(os.listdir(folder))
    absent = [os.path.basename(p) for p in _frame_paths(root, meta) if os.path.basename(p) not in present]
    return (f"{name} ({len(absent)} frames missing in data_seq/UAV123/{meta['folder_name']}/: {listing(absent, 5)})"
            if absent else None)


def _load_sequence(root: str, version: str, name: str, meta: dict) -> Sequence:
    gt_path = os.path.join(root, "anno", version, f"{name}.txt")
    boxes = read_boxes(gt_path)
    frames = _frame_paths(root, meta)
    n = matched_length(len(boxes), len(frames), gt_path)
    return Sequence(name=name, frame_paths=frames[:n], gt=boxes[:n], one_based=True)


def load_uav123(root, version: str = "UAV123", allow_partial: bool = False, name: str = None) -> Dataset:
    """Load UAV123 (123 sequences) or UAV20L (20) from ``root``; NaN boxes (target absent) are kept."""
    version = version.upper()
    if version not in VERSIONS:
        raise ValueError(f"unknown UAV version {version!r}; known: {', '.join(VERSIONS)}")
    name = name or version
    if root is None or not os.path.isdir(root):
        raise missing_root_error(name, "UAV123", root)
    root = str(root)
    metas = uav_frame_ranges()[version]
    return Dataset(name, present_sequences(name, "UAV123", root, list(metas),
                                           lambda s: _missing_parts(root, version, s, metas[s]),
                                           lambda s: _load_sequence(root, version, s, metas[s]), allow_partial,
                                           lambda s: _frames_dir(root, metas[s])))
