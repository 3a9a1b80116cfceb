"""STL-10 in its binary release (``stl10_binary/``): 96 x 96 RGB images, 10 classes, labels 1..10 on disk.

Files: ``train_X.bin`` / ``train_y.bin`` (5,000), ``test_X.bin`` / ``test_y.bin`` (8,000). Each image is
3 x 96 x 96 bytes stored column-major per channel (the MATLAB layout), so it is transposed on reading.
"""
from pathlib import Path

import numpy as np

from ientrack.data.errors import DatasetNotFoundError

SIDE = 96
SPLITS = ("train", "test")


def load_stl10(root, split: str = "train"):
    """``(images uint8 N x 3 x 96 x 96 row-major, labels int64 N in 0..9)`` of ``split`` under ``root``."""
    if split not in SPLITS:
        raise ValueError(f"STL-10 split must be one of {SPLITS}, got {split!r}")
    root = Path(root)
    x_path, y_path = root / f"{split}_X.bin", root / f"{split}_y.bin"
    missing = [p.name for p in (x_path, y_path) if not p.is_file()]
    if missing:
        raise DatasetNotFoundError(f"STL-10 {split} split not found: {root} lacks {', '.join(missing)}; put the "
                                   f"files of stl10_binary.tar.gz (train_X.bin, train_y.bin, test_X.bin, test_y.bin) there")
    raw = np.fromfile(x_path, dtype=np.uint8)
    per_image = 3 * SIDE * SIDE
    if raw.size == 0 or raw.size % per_image:
        raise ValueError(f"{x_path}: {raw.size} bytes is not a whole number of 3 x 96 x 96 images")
    images = raw.reshape(-1, 3, SIDE, SIDE).transpose(0, 1, 3, 2)
    labels = np.fromfile(y_path, dtype=np.uint8).astype(np.int64)
    if len(labels) != len(images):
        raise ValueError(f"{y_path}: {len(labels)} labels for {len(images)} images in {x_path.name}")
    if labels.min() < 1 or labels.max() > 10:
        raise ValueError(f"{y_path}: labels must be 1..10, found {labels.min()}..{labels.max()}")
    return np.ascontiguousarray(images), labels - 1
