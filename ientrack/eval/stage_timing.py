"""Where a Siamese tracker's ``update`` spends its time, stage by stage, timed inside real updates.

The tracker's own steps are wrapped for the duration of the measurement (nothing in the tracker's code
knows about it): ``crop`` (``_patches``: the search crops, and the canonicalizer's patch), ``canonicalizer``
(``_pose_probabilities`` without its crop), ``backbone``, ``correlation`` (``head.against_bank``),
``upsampling`` (the bicubic upsampling of the responses, wherever the trackers call it) and ``rest``: the
update's time outside those, i.e. the peak search, the state update, host copies and Python glue. Each
stage's time excludes the stages it calls, so the stages of one update sum to its time. On CUDA every
stage ends with a synchronisation (the stages are then honest, the total a little slower than unwrapped).
"""
import sys
import time
from collections import defaultdict
from contextlib import contextmanager

import numpy as np
import torch

from ientrack.trackers import search

STAGES = ("crop", "canonicalizer", "backbone", "correlation", "upsampling", "rest")


class StageClock:
    """Exclusive wall time per named stage: a wrapped call's time less that of the wrapped calls inside it."""

    def __init__(self, sync=None, now=time.perf_counter):
        self.sync, self.now = sync, now
        self.seconds = defaultdict(float)
        self._inner = []  # per open call: seconds spent in wrapped calls inside it

    def wrap(self, stage: str, fn):
        """``fn`` timed as ``stage``."""

        def timed(*args, **kwargs):
            self._inner.append(0.0)
            start = self.now()
            try:
                return fn(*args, **kwargs)
            finally:
                if self.sync is not None:
                    self.sync()
                elapsed = self.now() - start
                self.seconds[stage] += elapsed - self._inner.pop()
                if self._inner:
                    self._inner[-1] += elapsed

        return timed

    def reset(self):
        self.seconds.clear()


def _wrap_points(tracker):
    """(owner, attribute, stage) of every step of ``tracker`` that has a stage; the upsampling wherever a
    loaded module of ientrack.trackers holds the function."""
    points = [(tracker, "_patches", "crop"), (tracker, "backbone", "backbone"),
              (tracker.head, "against_bank", "correlation")]
    if hasattr(tracker, "_pose_probabilities"):
        points.append((tracker, "_pose_probabilities", "canonicalizer"))
    for name, module in list(sys.modules.items()):
        if name.startswith("ientrack.trackers") and getattr(module, "upsample_bicubic", None) is search.upsample_bicubic:
            points.append((module, "upsample_bicubic", "upsampling"))
    return points


@contextmanager
def stage_clock(tracker, now=time.perf_counter):
    """A :class:`StageClock` timing ``tracker``'s stages while the ``with`` block runs; the tracker's
    attributes (and the modules' functions) are restored afterwards."""
    sync = torch.cuda.synchronize if tracker.device.type == "cuda" else None
    clock = StageClock(sync, now)
    saved = []
    try:
        for owner, attribute, stage in _wrap_points(tracker):
            had_own = attribute in vars(owner)
            saved.append((owner, attribute, had_own, vars(owner).get(attribute)))
            setattr(owner, attribute, clock.wrap(stage, getattr(owner, attribute)))
        yield clock
    finally:
        for owner, attribute, had_own, value in reversed(saved):
            if had_own:
                setattr(owner, attribute, value)
            else:
                delattr(owner, attribute)


def staged_update(tracker, frame, now=time.perf_counter) -> dict:
    """One ``update`` of ``tracker`` on ``frame``, timed whole (``total``) and by stage (seconds by the
    clock ``now``, every stage of :data:`STAGES`; those the tracker lacks are 0)."""
    with stage_clock(tracker, now) as clock:
        start = now()
        tracker.update(frame)
        total = now() - start
    times = {stage: clock.seconds.get(stage, 0.0) for stage in STAGES[:-1]}
    times["rest"] = total - sum(times.values())
    times["total"] = total
    return times


def stage_summary(updates) -> dict:
    """From several :func:`staged_update` results: the median milliseconds of each stage (``stages_ms``),
    their sum, and the median and best of the updates' own times."""
    stages = {stage: 1e3 * float(np.median([u[stage] for u in updates])) for stage in STAGES}
    totals = np.array([u["total"] for u in updates])
    return {"stages_ms": stages, "stages_sum_ms": sum(stages.values()),
            "staged_update_median_ms": 1e3 * float(np.median(totals)), "staged_update_best_ms": 1e3 * float(totals.min())}
