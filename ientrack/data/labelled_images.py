"""Photos with ImageNet class labels in one folder, read the standard ImageNet evaluation way.

The folder holds the images and ``subset_index.csv`` (columns ``file`` and ``class_index``: the ILSVRC
class index of each image). Images: shorter side 256 (bilinear), centre crop 224. ``select`` keeps all
files, or the even or odd positions of the list sorted by file name: the fixed split that the
canonicalizer's training (even) and its check (odd) share.
"""
import csv
from pathlib import Path

import cv2
import numpy as np
import torch

INDEX = "subset_index.csv"
SELECTIONS = {"all": slice(0, None, 1), "even": slice(0, None, 2), "odd": slice(1, None, 2)}


def select_positions(items: list, select: str) -> list:
    """``items`` (already sorted) at the positions ``select`` names: ``all``, ``even`` or ``odd``."""
    if select not in SELECTIONS:
        raise ValueError(f"select must be one of {', '.join(SELECTIONS)}, got {select!r}")
    return items[SELECTIONS[select]]


def center_crop(image: np.ndarray, resize: int = 256, size: int = 224) -> np.ndarray:
    """Shorter side to ``resize`` (bilinear), then the central ``size x size`` square."""
    h, w = image.shape[:2]
    scale = resize / min(h, w)
    image = cv2.resize(image, (max(size, round(w * scale)), max(size, round(h * scale))))
    h, w = image.shape[:2]
    top, left = (h - size) // 2, (w - size) // 2
    return image[top:top + size, left:left + size]


def read_labelled_folder(folder, select: str = "all") -> tuple[torch.Tensor, torch.Tensor]:
    """``(images, labels)``: float RGB 0..255 ``(N, 3, 224, 224)`` and the class indices ``(N,)``."""
    folder = Path(folder)
    index = folder / INDEX
    if not index.is_file():
        raise FileNotFoundError(f"{index} is missing: it maps each image file to its ILSVRC class index "
                                f"(columns file, class_index)")
    with open(index, newline="") as f:
        rows = select_positions(sorted(csv.DictReader(f), key=lambda r: r["file"]), select)
    crops = []
    for row in rows:
        image = cv2.imread(str(folder / row["file"]), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"{folder / row['file']}: missing or not an image (listed in {index})")
        crops.append(center_crop(cv2.cvtColor(image, cv2.COLOR_BGR2RGB)))
    images = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float()
    return images, torch.tensor([int(row["class_index"]) for row in rows])
