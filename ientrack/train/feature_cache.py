"""A frozen extractor's features of a fixed set of training pairs, computed once (``train: feature_cache: N``).

A backbone with a frozen part (``frozen_features(x)``) and a trained one (``trained``, e.g. effnet_lite0_s8's
trunk and adjust layer) spends nearly all of a training step in the frozen part, which never changes. With a
cache the trainer computes those features of ``N`` pairs once (pair ``i``: item ``i % len`` of the mixture's
epoch ``i // len``, the augmentation included), in float16, and every epoch passes over all ``N`` through
the trained part alone: many epochs for the price of one pass. Items may carry targets after the two crops
(a box head's boxes, ``targets=True``): they are kept beside the features as they are. The cache is kept in the run's folder
(``features.pt``) and reused when a run with the same pairs and extractor resumes or restarts.
"""
from pathlib import Path

import torch
from tqdm import tqdm
from torch.utils.data import Dataset, TensorDataset

from ientrack.checkpoint import load_checkpoint, save_checkpoint
from ientrack.distributed import print0
from ientrack.models.siamese import fuse_conv_bn
from ientrack.train.loader import ForkSafeLoader

CACHE = "features.pt"


class DrawnPairs(Dataset):
    """Pairs ``0 .. count-1`` over consecutive epochs of ``pairs`` (a :class:`TrainingPairs`): their first
    ``items`` entries."""

    def __init__(self, pairs, count: int, items: int = 2):
        self.pairs, self.count, self.items = pairs, count, items

    def __len__(self):
        return self.count

    def __getitem__(self, i: int):
        self.pairs.set_epoch(i // len(self.pairs))
        return self.pairs[i % len(self.pairs)][:self.items]


def cached_features(backbone, pairs, count: int, key: dict, out_dir: Path, workers: int, write: bool = True,
                    batch_size: int = 32, progress: bool = False, targets: bool = False,
                    whole: bool = False) -> TensorDataset:
    """``(z, x)`` features of ``backbone.frozen_features`` (of the whole ``backbone`` with ``whole``: a head
    that learns behind all of it) for ``count`` pairs of ``pairs`` (``(z, x, t)`` with ``targets``: each
    item's third entry, a tensor, kept as it is): read from
    ``out_dir/features.pt`` where its ``key`` (what the pairs and the extractor are) matches, else computed
    (and written there when ``write``: the main process of a run)."""
    path, names = Path(out_dir) / CACHE, ("z", "x", "t") if targets else ("z", "x")
    if path.is_file():
        state, meta = load_checkpoint(path)
        if meta.get("key") == key:
            print0(f"reusing the frozen features of {count} pairs in {path}")
            return TensorDataset(*(state[k] for k in names))
    print0(f"computing the frozen features of {count} pairs (once; kept in {path})")
    device = next(backbone.parameters()).device
    extractor = fuse_conv_bn(backbone)  # the same features (batch norms folded: it never trains), faster
    embed = extractor if whole else extractor.frozen_features
    loader = ForkSafeLoader(DrawnPairs(pairs, count, len(names)), batch_size=batch_size, num_workers=workers)
    parts = {k: [] for k in names}
    with torch.no_grad():
        for z, x, *t in tqdm(loader, desc="frozen features", unit="batch", disable=not progress):
            parts["z"].append(embed(z.to(device).float()).half().cpu())
            parts["x"].append(embed(x.to(device).float()).half().cpu())
            if targets:
                parts["t"].append(t[0])
    state = {k: torch.cat(v) for k, v in parts.items()}
    if write:
        save_checkpoint(path, state, {"key": key})
    return TensorDataset(*(state[k] for k in names))
