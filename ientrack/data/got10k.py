"""GOT-10k from its folder layout ``<root>/<split>/list.txt`` and ``<root>/<split>/<seq>/00000001.jpg``,
``groundtruth.txt``. The test split publishes only the first box: its sequences have ``gt=None`` and
``init_box`` set."""
import os

from ientrack.data.errors import missing_root_error, present_sequences
from ientrack.data.gt_files import list_images, matched_length, read_boxes, sequence_names
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
    frames = list_images(seq_dir)
    gt_path = os.path.join(seq_dir, "groundtruth.txt")
    boxes = read_boxes(gt_path)
    if split == "test":
        return Sequence(name=name, frame_paths=frames, gt=None, init_box=boxes[0])
    n = matched_length(len(boxes), len(frames), gt_path)
    return Sequence(name=name, frame_paths=frames[:n], gt=boxes[:n])


def _missing_parts(seq_dir: str, name: str):
    if not os.path.isdir(seq_dir):
        return f"{name} (folder)"
    if not os.path.isfile(os.path.join(seq_dir, "groundtruth.txt")):
        return f"{name} (groundtruth.txt)"
    if not list_images(seq_dir):
        return f"{name} (no frames)"
    return None


def load_got10k(root, split: str = "val", allow_partial: bool = False, name: str = None) -> Dataset:
    """Load the GOT-10k ``split`` (``train``, ``val`` or ``test``) under ``root`` (the folder holding the splits).

    Boxes are 0-based ``(x, y, w, h)``. Sequences listed in ``list.txt`` but absent raise one
    ``DatasetNotFoundError`` (or, with ``allow_partial``, are skipped with a warning).
    """
    if split not in SPLITS:
        raise ValueError(f"unknown GOT-10k split {split!r}; known: {', '.join(SPLITS)}")
    name = name or f"GOT10k-{split}"
    split_dir = _split_dir(str(root), split) if root is not None else None
    if split_dir is None or not os.path.isdir(split_dir):
        raise missing_root_error(name, "GOT10K", split_dir)
    present = present_sequences(name, "GOT10K", split_dir, sequence_names(split_dir),
                                lambda seq: _missing_parts(os.path.join(split_dir, seq), seq), allow_partial)
    return Dataset(name, [_load_sequence(os.path.join(split_dir, s), s, split) for s in present])
