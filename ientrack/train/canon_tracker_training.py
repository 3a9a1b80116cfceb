"""Retrain a canonicalized tracker's canonicalizer from tracking data (``tools/train.py --tracker canon_siamfc``).

In ``canon_siamfc`` the extractor and the SiamFC head are pretrained and untrained for tracking; the
learned part is the canonicalizer, which needs upright photos and nothing else. Every frame of a tracking
dataset such as GOT-10k is one, so frames spread evenly over each sequence (``frames_per_sequence``)
and the images of any image folder become the canonicalizer's training set. The canonicalizer keeps the
architecture and the number of steps of the one the config names (its checkpoint's settings); the
trained weights replace the config's ``canonicalizer_weights`` when the run finishes, or go to ``export``.
"""
from pathlib import Path
from typing import Optional

import cv2
import numpy as np
from tqdm import tqdm

from ientrack.checkpoint import load_checkpoint
from ientrack.crop import crop
from ientrack.data.pairs import find_images
from ientrack.data.frames import read_frame
from ientrack.data.registry import load_dataset, parse_rot_prefix
from ientrack.geometry import box_center, exemplar_side, valid_boxes
from ientrack.train.canon_trainer import loss_weights, train_canonicalizer
from ientrack.train.settings import CanonSettings


def shrink(image: np.ndarray, short_side: int) -> np.ndarray:
    """``image`` resized (area interpolation) so that its shorter side is ``short_side``; never enlarged."""
    scale = short_side / min(image.shape[:2])
    if scale >= 1:
        return image
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


FRAME_KINDS = ("frames", "targets")


def spread(count: int, picks: int) -> np.ndarray:
    """``picks`` positions spread evenly over ``range(count)``, first and last included (fewer if they repeat)."""
    return np.unique(np.linspace(0, count - 1, picks).round().astype(int))


def target_crops(seq, frames_per_sequence: int, context: float = 0.5, scale: float = 2.0,
                 size: int = 128) -> list:
    """Square crops (``size`` px, upright) about the target in ``frames_per_sequence`` frames spread
    evenly over the frames where it is in view: side ``scale`` times SiamFC's context window
    (:func:`ientrack.geometry.exemplar_side`), the patch ``canon_siamfc`` asks the pose of."""
    valid = np.flatnonzero(valid_boxes(seq.gt))
    crops = []
    for i in valid[spread(len(valid), frames_per_sequence)] if len(valid) else []:
        box = seq.gt[i]
        center = box_center(box) - (1.0 if seq.one_based else 0.0)
        side = scale * exemplar_side(box[2:4], context)
        crops.append(crop(seq.frame(int(i)), center, side, 0.0, size)[0])
    return crops


def upright_images(datasets=(), image_folders=(), data_root=None, frames_per_sequence: int = 1,
                   short_side: int = 128, progress: bool = True, allow_partial: bool = False,
                   kinds=("frames",)) -> list:
    """RGB ``uint8`` images, shorter side at most ``short_side``: from ``frames_per_sequence`` frames spread
    evenly over every sequence of each dataset (a name for :func:`load_dataset`, or a loaded dataset),
    the whole frames and / or the crops about the target (``kinds`` of :data:`FRAME_KINDS`, see
    :func:`target_crops`), and every image of the folders (``allow_partial``: the sequences present of an
    incomplete dataset). Rotated datasets (``Rot-...``) are refused: their frames are turned."""
    if frames_per_sequence < 1:
        raise ValueError(f"frames per sequence must be at least 1, got {frames_per_sequence}")
    if not kinds or set(kinds) - set(FRAME_KINDS):
        raise ValueError(f"frame kinds must be among {', '.join(FRAME_KINDS)}, got {list(kinds)}")
    images = []
    for dataset in datasets:
        if isinstance(dataset, str):
            if parse_rot_prefix(dataset)[0] is not None:
                raise ValueError(f"{dataset}: a canonicalizer learns 'up' from upright frames; the Rot protocol "
                                 f"turns them (use {parse_rot_prefix(dataset)[1]})")
            dataset = load_dataset(dataset, data_root, allow_partial=allow_partial)
        for seq in tqdm(list(dataset), desc=f"frames of {dataset.name}", disable=not progress):
            if "frames" in kinds:
                images += [shrink(seq.frame(int(i)), short_side) for i in spread(len(seq), frames_per_sequence)]
            if "targets" in kinds:
                images += [shrink(patch, short_side) for patch in target_crops(seq, frames_per_sequence)]
    if image_folders:
        paths = find_images(image_folders)
        images += [shrink(read_frame(str(p)), short_side) for p in tqdm(paths, desc="images", disable=not progress)]
    if not images:
        raise ValueError("no training images: give a sequence dataset or an image folder")
    return images


def retrain_canonicalizer(config: dict, images: list, out_dir, steps: Optional[int] = None,
                          export: Optional[str] = None, resume: bool = True, seed: Optional[int] = None,
                          progress: bool = True, device: str = "auto", save_every: Optional[int] = None) -> Path:
    """Train the canonicalizer of a ``siamfc_canonicalized`` tracker ``config`` (from
    :func:`ientrack.trackers.registry.load_config`) on ``images``; returns the exported file.

    Architecture and default steps come from the checkpoint ``config['canonicalizer_weights']`` names;
    the resumable state is ``out_dir/canonicalizer_last.pt``, written every ``save_every`` steps (default:
    :class:`CanonSettings`'s).
    """
    current = config.get("canonicalizer_weights")
    if not current or not Path(current).is_file():
        raise FileNotFoundError(f"{config.get('name', 'tracker')}: canonicalizer_weights {current!r} not found; "
                                "its settings say which canonicalizer to train")
    _, meta = load_checkpoint(current)
    settings = meta["canonicalizer"]
    shipped = {"canonicalizer": settings, "steps": int(meta.get("steps", CanonSettings.steps)),
               **loss_weights(settings)}
    train_config = CanonSettings.from_dict(shipped, "canonicalizer", steps=steps, seed=seed, save_every=save_every)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = Path(export or current)
    train_canonicalizer(images, train_config, checkpoint=out_dir / "canonicalizer_last.pt", resume=resume,
                        progress=progress, device=device, export=path,
                        extra_meta={"trained_on": f"{len(images)} upright images (tools/train.py)"})
    return path
