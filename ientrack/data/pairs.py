"""Training pairs for Siamese trackers: an exemplar crop around the target and a search crop that
holds the same target at its centre, cut from videos or from still images.

Sources say where a pair's two views come from; :class:`TrainingPairs` turns them into crops with
SiamFC's geometry (:func:`ientrack.geometry.exemplar_side`, resized to 127; the search crop covers
``255 / 127`` times that side and is resized to 255). Each crop is
one affine warp (:func:`ientrack.crop.crop`) with the augmentation's shift and stretch folded in.
"""
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import List, NamedTuple, Optional, Sequence as Seq

import numpy as np
import torch
from torch.utils.data import Dataset as TorchDataset

from ientrack.crop import crop
from ientrack.data.augment import SEQUENCE_AUGMENTATION, STILL_IMAGE_AUGMENTATION, Augmentation
from ientrack.data.frames import read_frame
from ientrack.geometry import box_center, exemplar_side, valid_boxes

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


class View(NamedTuple):
    """One view of the target: an RGB ``uint8`` image and the target's 0-based centre and ``(w, h)``."""

    image: np.ndarray
    center: np.ndarray
    size: np.ndarray


class SequencePairSource:
    """Two frames of one sequence at most ``max_gap`` frames apart, both with valid boxes (GOT-10k
    train in SiamFC; out-of-view ``NaN`` rows never used). Sequences with fewer than two valid boxes are
    skipped; each remaining sequence gives ``pairs_per_sequence`` pairs per epoch. ``name``: the dataset's
    (a mixture's key, :mod:`ientrack.data.mixture`)."""

    augmentation = SEQUENCE_AUGMENTATION

    def __init__(self, sequences, max_gap: int = 100, pairs_per_sequence: int = 1, name: Optional[str] = None):
        if max_gap < 1:
            raise ValueError(f"max_gap must be at least 1, got {max_gap}")
        self.name = name or getattr(sequences, "name", "sequences")
        self.max_gap = max_gap
        self.pairs_per_sequence = pairs_per_sequence
        self.sequences, self.valid = [], []
        for seq in sequences:
            if seq.gt is None:
                continue
            valid = np.flatnonzero(valid_boxes(seq.gt[: len(seq)]))
            if len(valid) >= 2:
                self.sequences.append(seq)
                self.valid.append(valid)
        if not self.sequences:
            raise ValueError("SequencePairSource: no sequence has two frames with valid boxes")

    def __len__(self):
        return len(self.sequences) * self.pairs_per_sequence

    def views(self, index: int, rng: np.random.Generator):
        seq = self.sequences[index % len(self.sequences)]
        valid = self.valid[index % len(self.sequences)]
        i = rng.choice(valid)
        near = valid[(np.abs(valid - i) <= self.max_gap) & (valid != i)]
        j = rng.choice(near) if len(near) else i
        return self._view(seq, i), self._view(seq, j)

    @staticmethod
    def _view(seq, f: int) -> View:
        box = seq.gt[f]
        center = box_center(box) - (1.0 if seq.one_based else 0.0)
        return View(seq.frame(f), center, box[2:4].copy())


def find_images(roots) -> List[Path]:
    """Every ``*.jpg``, ``*.jpeg`` and ``*.png`` file (any case) under the folders ``roots``, sorted;
    an error names a folder that is missing or holds no image."""
    found = []
    for root in [roots] if isinstance(roots, (str, Path)) else roots:
        root = Path(root)
        if not root.is_dir():
            raise FileNotFoundError(f"image folder not found: {root}")
        images = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not images:
            raise FileNotFoundError(f"no .jpg/.jpeg/.png image under {root}")
        found.extend(images)
    return found


class StillImagePairSource:
    """Both views from one still image: a random box (side ``min_side..max_side`` of the image's
    shorter side, aspect ratio ``1/max_aspect..max_aspect``) is the target; the stronger
    :data:`STILL_IMAGE_AUGMENTATION` makes the two crops differ."""

    augmentation = STILL_IMAGE_AUGMENTATION

    def __init__(self, images: Seq, pairs_per_image: int = 1, min_side: float = 0.15, max_side: float = 0.5,
                 max_aspect: float = 2.0, name: str = "images"):
        """``images``: file paths or RGB ``uint8`` arrays; ``name``: a mixture's key (the folder's name)."""
        if not len(images):
            raise ValueError("StillImagePairSource: no images")
        self.name = name
        self.images = list(images)
        self.pairs_per_image = pairs_per_image
        self.min_side, self.max_side, self.max_aspect = min_side, max_side, max_aspect

    def __len__(self):
        return len(self.images) * self.pairs_per_image

    def views(self, index: int, rng: np.random.Generator):
        image = self.images[index % len(self.images)]
        image = read_frame(str(image)) if isinstance(image, (str, Path)) else image
        h, w = image.shape[:2]
        side = rng.uniform(self.min_side, self.max_side) * min(h, w)
        aspect = np.exp(rng.uniform(-np.log(self.max_aspect), np.log(self.max_aspect)))
        size = np.minimum([side * np.sqrt(aspect), side / np.sqrt(aspect)], [w, h])
        center = rng.uniform((size - 1) / 2, np.array([w, h]) - 1 - (size - 1) / 2)
        view = View(image, center, size)
        return view, view


@dataclass
class PairSettings:
    """How training pairs are drawn and posed: the one default of each setting (a tracker's ``train:``
    section overrides them, :class:`ientrack.train.settings.TrackerSettings`)."""

    max_gap: int = 100  # the two frames of a sequence pair lie at most this many frames apart
    # each source's share of an epoch's pairs, by name ({real@train: 0.6, photos: 0.2, Builtin-train: 0.2}:
    # a dataset's name, an image folder's name); None: each source gives its sequences / images x --repeat
    mixture: Optional[dict] = None
    pairs_per_epoch: Optional[int] = None  # an epoch's size (None: the sources' sequences and images x --repeat)

    rotate: bool = False  # turn both crops of a pair by one random angle, so the network sees every pose
    relative_angle: float = 180.0  # and the search crop by up to this many degrees more (0..180)
    rotate_fraction: float = 1.0  # the share of pairs turned to a random pose (the rest keep upright)


class TrainingPairs(TorchDataset):
    """A torch dataset of ``(z, x)`` (or ``(z, x, angle)`` with ``rotate=True``) pairs.

    ``z``: ``3 x 127 x 127`` and ``x``: ``3 x 255 x 255`` ``uint8`` tensors (RGB), the target centred
    in both at the same scale (up to the augmentation's shift and stretch). With ``rotate=True`` both
    crops are turned by one random angle (uniform over the circle), so the network sees targets in every
    pose, and the search crop by a further random ``angle`` (uniform in ``[-relative_angle,
    relative_angle]`` degrees, a float32 scalar tensor): the target appears rotated by ``angle``
    counter-clockwise in ``x`` relative to ``z``. ``rotate_fraction`` below 1 keeps the other pairs'
    common pose upright (their search crop still turned by ``angle``): real footage is mostly upright.
    A tracker with a template bank of rotations needs a small ``relative_angle`` (the bank finds the pose;
    the features must match within a bank step); 180 asks the features themselves to match any relative
    pose.
    Item ``i`` is a deterministic function of ``(seed, epoch, i)``; :meth:`set_epoch` draws new pairs.
    """

    def __init__(self, sources, exemplar_size: int = 127, instance_size: int = 255, context: float = 0.5,
                 rotate: bool = PairSettings.rotate, seed: int = 0, relative_angle: float = PairSettings.relative_angle,
                 rotate_fraction: float = PairSettings.rotate_fraction):
        if not 0 <= relative_angle <= 180:
            raise ValueError(f"relative_angle must lie in [0, 180] degrees, got {relative_angle}")
        if not 0 <= rotate_fraction <= 1:
            raise ValueError(f"rotate_fraction (the share of pairs in a random pose) must lie in [0, 1], "
                             f"got {rotate_fraction}")
        self.sources = list(sources)
        if not self.sources:
            raise ValueError("TrainingPairs: no pair source given")
        self.offsets = np.cumsum([0] + [len(s) for s in self.sources])
        self.exemplar_size, self.instance_size = exemplar_size, instance_size
        self.context, self.rotate, self.seed, self.relative_angle = context, rotate, seed, relative_angle
        self.rotate_fraction = rotate_fraction
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Draw the pairs of ``epoch`` (call before building the epoch's loader)."""
        self.epoch = epoch

    def __len__(self):
        return int(self.offsets[-1])

    def _views(self, index: int):
        """Pair ``index``'s source, its generator (a function of seed, epoch and index) and its two views."""
        if not 0 <= index < len(self):
            raise IndexError(f"pair {index} out of range ({len(self)} pairs)")
        k = int(np.searchsorted(self.offsets, index, side="right") - 1)
        source = self.sources[k]
        rng = np.random.default_rng([self.seed, self.epoch, index])
        return (source, rng) + tuple(source.views(index - int(self.offsets[k]), rng))

    def __getitem__(self, index: int):
        source, rng, view_z, view_x = self._views(index)
        common = rng.uniform(-180.0, 180.0) if self.rotate else 0.0
        if self.rotate_fraction < 1 and rng.random() >= self.rotate_fraction:  # no draw at 1: same pairs as before
            common = 0.0
        angle = rng.uniform(-self.relative_angle, self.relative_angle) if self.rotate else 0.0
        aug = source.augmentation
        z = self._crop(view_z, self.exemplar_size, common, dataclasses.replace(aug, shift=0.0), rng)
        x = self._crop(view_x, self.instance_size, common + angle, aug, rng)
        pair = (_chw(z), _chw(x))
        return pair + (torch.tensor(angle, dtype=torch.float32),) if self.rotate else pair

    def _crop(self, view: View, out_size: int, angle: float, aug: Augmentation, rng) -> np.ndarray:
        """The view's target at the centre of an ``out_size`` crop whose content is turned by ``angle``."""
        side = exemplar_side(view.size, self.context) * out_size / self.exemplar_size
        offset, window = aug.window(rng, (side, side), out_size)
        # crop angle -angle shows the content turned by +angle; the offset lives in the crop's frame
        a = np.deg2rad(-angle)
        turn = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
        patch = crop(view.image, view.center - turn @ offset, window, -angle, out_size)[0]
        return aug.photometric(rng, patch)


def _chw(patch: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(patch.transpose(2, 0, 1)))


def pair_sources(datasets=(), image_folders=(), data_root=None, max_gap: int = PairSettings.max_gap,
                 repeat: int = 1, allow_partial: bool = False) -> list:
    """Pair sources from sequence datasets (:class:`SequencePairSource`; a name such as ``GOT10k-train``
    or a folder ``/data/real@train`` is loaded with :func:`ientrack.data.registry.load_dataset` from
    ``data_root``, ``allow_partial``: the sequences present of an incomplete download) and image folders
    searched recursively (a :class:`StillImagePairSource` per folder, named after it); at least one of the
    two must be given.
    ``repeat``: pairs per sequence and per image in one epoch (small datasets)."""
    if repeat < 1:
        raise ValueError(f"repeat (pairs per sequence / image per epoch) must be at least 1, got {repeat}")
    sources = []
    for dataset in datasets:
        if isinstance(dataset, str):
            from ientrack.data.registry import load_dataset  # the loaders, only when a name is given

            dataset = load_dataset(dataset, data_root, allow_partial=allow_partial)
        sources.append(SequencePairSource(dataset, max_gap=max_gap, pairs_per_sequence=repeat))
    for folder in image_folders:
        sources.append(StillImagePairSource(find_images(folder), pairs_per_image=repeat, name=Path(folder).name))
    if not sources:
        raise ValueError("no training data: give a sequence dataset or an image folder")
    return sources
