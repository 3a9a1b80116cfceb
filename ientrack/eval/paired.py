"""Paired differences between two trackers over the same sequences: is a gain more than a few sequences?

On a dozen sequences one sequence can move the mean success AUC by 0.03-0.05 (a tracker that loses the
target halfway scores 0.2 where a lucky one scores 0.7), so a difference of means says little alone. The
sequences are the unit: each sequence's difference, the mean of those, a percentile bootstrap interval
over sequences (resampled with replacement, a fixed seed, so a page regenerates to the same digits), the
wins and losses, and the mean once the sequence with the largest difference is dropped: a gain that one
sequence decides changes sign there.
"""
from dataclasses import dataclass
from typing import Dict, Hashable, Optional

import numpy as np

RESAMPLES = 10_000
LEVEL = 0.95
TIE = 0.005  # a sequence's difference below this counts as neither a win nor a loss


@dataclass(frozen=True)
class PairedDifference:
    """``mean`` of the per-sequence differences (tracker minus reference) over ``n`` sequences, its
    bootstrap interval ``low``..``high``, ``wins`` / ``losses`` (differences beyond ``TIE``), and
    ``without_largest``: the mean without the sequence of the largest absolute difference."""

    n: int
    mean: float
    low: float
    high: float
    wins: int
    losses: int
    without_largest: float

    def cell(self) -> str:
        """A markdown table cell: ``+0.042 [-0.011, +0.090] 7/3, +0.020``."""
        def signed(x: float) -> str:
            return f"{round(x, 6) + 0.0:+.3f}"  # + 0.0: no "-0.000" from a sum's rounding

        return (f"{signed(self.mean)} [{signed(self.low)}, {signed(self.high)}] {self.wins}/{self.losses}, "
                f"{signed(self.without_largest)}")


def paired_difference(tracker: Dict[Hashable, float], reference: Dict[Hashable, float],
                      resamples: int = RESAMPLES, level: float = LEVEL, seed: int = 0) -> Optional[PairedDifference]:
    """The difference of ``tracker`` and ``reference`` (each ``{sequence: score}``) over the sequences both
    have; ``None`` where they share fewer than two."""
    shared = set(tracker) & set(reference)
    if len(shared) < 2:
        return None
    # sorted by value: the resamples do not depend on how the sequences are named or ordered
    diffs = np.sort(np.array([tracker[s] - reference[s] for s in shared], dtype=np.float64))
    draws = np.random.default_rng(seed).integers(0, len(diffs), size=(resamples, len(diffs)))
    means = diffs[draws].mean(axis=1)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    largest = int(np.argmax(np.abs(diffs)))
    return PairedDifference(n=len(diffs), mean=float(diffs.mean()), low=float(low), high=float(high),
                            wins=int((diffs > TIE).sum()), losses=int((diffs < -TIE).sum()),
                            without_largest=float(np.delete(diffs, largest).mean()))
