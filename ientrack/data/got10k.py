"""GOT-10k from its folder layout ``<root>/<split>/list.txt`` and ``<root>/<split>/<seq>/00000001.jpg``,
``groundtruth.txt``. The test split publishes only the first box: its sequences have ``gt=None`` and
``init_box`` set."""
import os

from ientrack.data.errors import load_present, missing_root_error, required
from ientrack.data.frame_numbers import frames_for_rows
from ientrack.data.gt_files import read_boxes, sequence_names
from ientrack.data.sequence import Dataset, Sequence

SPLITS = ("train", "val", "test")


def _split_dir(root: str, split: str) -> str:
    """``<root>/<split>``, or ``root`` itself when it already is the split folder."""
    candidate = os.path.join(root, split)
    if os.path.isdir(candidate):
        return candidate
    if os.path.basename(os.path.normpath(root)).lower() == split and os.path.isdir(root):
        return root
    return candidate


def _load_sequence(seq_dir: str, name: str, split: str) -> Sequence:
    """The sequence in ``seq_dir``, row ``i`` of its ground truth paired with frame ``i + 1`` by number."""
    required(seq_dir, name, "folder", folder=True)
    gt_path = required(os.path.join(seq_dir, "groundtruth.txt"), name, "groundtruth.txt")
    boxes = read_boxes(gt_path)
    if split == "test":  # only the first box is published
        return Sequence(name=name, frame_paths=frames_for_rows(seq_dir, None, gt_path, sequence=name), gt=None,
                        init_box=boxes[0])
    frames = frames_for_rows(seq_dir, len(boxes), gt_path, sequence=name)
    return Sequence(name=name, frame_paths=frames, gt=boxes[:len(frames)])


def load_got10k(root, split: str = "val", allow_partial: bool = False, name: str = None) -> Dataset:
    """Load the GOT-10k ``split`` (``train``, ``val`` or ``test``) under ``root`` (the folder holding the splits).

    Boxes are 0-based ``(x, y, w, h)``; row ``i`` belongs to the frame numbered
    ``i + 1`` (``00000001.jpg`` is row 0's). Sequences
    listed in ``list.txt`` but absent, or with a frame missing, raise one ``DatasetNotFoundError`` naming them
    (or, with ``allow_partial``, are left out with a warning).
    """
    if split not in SPLITS:
        raise ValueError(f"unknown GOT-10k split {split!r}; known: {', '.join(SPLITS)}")
    name = name or f"GOT10k-{split}"
    split_dir = _split_dir(str(root), split) if root is not None else None
    if split_dir is None or not os.path.isdir(split_dir):
        raise missing_root_error(name, "GOT10K", split_dir)
    return Dataset(name, load_present(name, "GOT10K", split_dir, sequence_names(split_dir),
                                      lambda seq: _load_sequence(os.path.join(split_dir, seq), seq, split),
                                      allow_partial))
