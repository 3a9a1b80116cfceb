"""A mixture of pair sources: each source's share of the pairs of an epoch (a tracker's ``train: mixture:``).

Sources are named (a sequence dataset by its name, ``real@train`` or ``Builtin-train``; an image folder by
its folder's name, ``photos``). Without a mixture every source gives ``len(source)`` pairs an epoch (its
sequences or images times ``--repeat``), so the largest dominates; with one, source ``k`` gives
``share_k / sum(shares)`` of ``pairs_per_epoch`` (default: the sources' total), each pair from an item drawn
at random from it.
"""
from typing import Optional

import numpy as np


class Share:
    """``count`` pairs an epoch from ``source``: pair ``i`` from a random item of it (drawn by the pair's rng)."""

    def __init__(self, source, count: int):
        self.source, self.count = source, count
        self.name, self.augmentation = source.name, source.augmentation

    def __len__(self):
        return self.count

    def views(self, index: int, rng: np.random.Generator):
        return self.source.views(int(rng.integers(len(self.source))), rng)


def share_counts(shares, total: int) -> list:
    """``total`` split in proportion to ``shares`` (largest remainders: the counts sum to ``total``)."""
    shares = np.asarray(shares, dtype=np.float64)
    exact = total * shares / shares.sum()
    counts = np.floor(exact).astype(int)
    counts[np.argsort(counts - exact)[: total - counts.sum()]] += 1
    return counts.tolist()


def mix(sources: list, mixture: Optional[dict] = None, pairs_per_epoch: Optional[int] = None) -> list:
    """``sources`` as the mixture asks: ``mixture`` maps every source's name to its share (>= 0; 0 leaves
    it out), ``pairs_per_epoch`` sets the epoch's size. Neither given: the sources as they are."""
    if mixture is None and pairs_per_epoch is None:
        return list(sources)
    names = [s.name for s in sources]
    sizes = [len(s) for s in sources]
    total = sum(sizes) if pairs_per_epoch is None else int(pairs_per_epoch)
    if total < 1:
        raise ValueError(f"pairs_per_epoch must be at least 1, got {pairs_per_epoch}")
    if mixture is None:
        return [Share(s, n) for s, n in zip(sources, share_counts(sizes, total)) if n]
    if len(set(names)) != len(names):
        raise ValueError(f"the mixture names its sources, but two have one name: {names}")
    if set(mixture) != set(names):
        raise ValueError(f"the mixture's sources {sorted(mixture)} are not the training data's {sorted(names)}")
    shares = [float(mixture[name]) for name in names]
    if min(shares) < 0 or sum(shares) <= 0:
        raise ValueError(f"mixture shares must be >= 0 with a positive sum, got {dict(zip(names, shares))}")
    return [Share(s, n) for s, n in zip(sources, share_counts(shares, total)) if n]


def describe(sources: list) -> str:
    """``real@train 600, photos 200``: the pairs an epoch of each source."""
    return ", ".join(f"{getattr(s, 'name', type(s).__name__)} {len(s)}" for s in sources)
