"""LaSOT from its folder layout ``<root>/<class>/<class>-N/img/00000001.jpg`` with ``groundtruth.txt``,
``full_occlusion.txt`` and ``out_of_view.txt`` (a flat ``<root>/<class>-N/`` layout is accepted too).

The split lists (1,120 training and 280 test sequences) are read from the ``lasot.json`` that the installed
``got10k`` package ships, so nothing is downloaded and nothing is retyped here."""
import json
import os
from functools import lru_cache
from importlib import resources
from typing import Dict, List

from ientrack.data.errors import load_present, missing_root_error, required
from ientrack.data.frame_numbers import frames_for_rows
from ientrack.data.gt_files import read_boxes, read_flags
from ientrack.data.sequence import Dataset, Sequence

SUBSETS = ("test", "train", "full")


@lru_cache(maxsize=1)
def lasot_splits() -> Dict[str, List[str]]:
    """``{"train": [...1120 names], "test": [...280 names]}`` from the got10k package's ``lasot.json``."""
    with resources.files("got10k.datasets").joinpath("lasot.json").open("r", encoding="utf-8") as f:
        return json.load(f)


def _sequence_dir(root: str, name: str) -> str:
    """``<root>/<class>/<name>``, or the flat ``<root>/<name>`` where only that exists."""
    nested, flat = os.path.join(root, name.rsplit("-", 1)[0], name), os.path.join(root, name)
    return flat if not os.path.isdir(nested) and os.path.isdir(flat) else nested


def _attributes(seq_dir: str) -> List[str]:
    """``FOC`` / ``OV`` where ``full_occlusion.txt`` / ``out_of_view.txt`` flag any frame."""
    attributes = []
    for file, attribute in (("full_occlusion.txt", "FOC"), ("out_of_view.txt", "OV")):
        path = os.path.join(seq_dir, file)
        if os.path.isfile(path) and read_flags(path).any():
            attributes.append(attribute)
    return attributes


def _load_sequence(root: str, name: str) -> Sequence:
    """The sequence ``name``, row ``i`` of its ground truth paired with frame ``i + 1`` by number."""
    seq_dir = required(_sequence_dir(root, name), name, f"folder {name.rsplit('-', 1)[0]}/{name}/", folder=True)
    gt_path = required(os.path.join(seq_dir, "groundtruth.txt"), name, "groundtruth.txt")
    img = required(os.path.join(seq_dir, "img"), name, "no frames in img/", folder=True)
    boxes = read_boxes(gt_path)
    frames = frames_for_rows(img, len(boxes), gt_path, sequence=name)
    return Sequence(name=name, frame_paths=frames, gt=boxes[:len(frames)], attributes=_attributes(seq_dir),
                    one_based=True)


def load_lasot(root, subset: str = "test", allow_partial: bool = False, name: str = None) -> Dataset:
    """Load LaSOT's ``test`` split (280 sequences), its ``train`` split (1,120) or ``full`` (all 1,400)."""
    if subset not in SUBSETS:
        raise ValueError(f"unknown LaSOT subset {subset!r}; known: {', '.join(SUBSETS)}")
    name = name or ("LaSOT" if subset == "test" else f"LaSOT-{subset}")
    if root is None or not os.path.isdir(root):
        raise missing_root_error(name, "LASOT", root)
    root = str(root)
    splits = lasot_splits()
    names = splits["train"] + splits["test"] if subset == "full" else splits[subset]
    return Dataset(name, load_present(name, "LASOT", root, sorted(names), lambda s: _load_sequence(root, s),
                                      allow_partial, lambda s: _sequence_dir(root, s)))
