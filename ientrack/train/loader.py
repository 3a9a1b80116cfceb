"""The data of a training run, epoch by epoch: this process's share of a shuffled dataset in batches.

An epoch source has ``steps_per_epoch`` and ``epoch(epoch, skip) -> iterable of batches`` starting after
``skip`` batches (a resumed run continues where it stopped); :func:`ientrack.train.trainer.fit` reads
nothing else. :class:`DatasetEpochs` serves a torch dataset (tracker pairs, labelled images);
:class:`StepEpochs` serves place holders to an actor that draws its own batch from the step number.
"""
import os

import cv2
import torch
from torch.utils.data import DataLoader, DistributedSampler


def available_cpus() -> int:
    """CPUs this process may run on (its affinity where the OS reports one, e.g. under a job scheduler)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def steps_per_epoch(count: int, batch_size: int, ctx, what: str, more: str) -> int:
    """Full batches per epoch and process for ``count`` training items; an error saying what to do
    (``more``: how to get more ``what``) when there is none."""
    steps = count // ctx.world_size // batch_size
    if steps == 0:
        fits = count // ctx.world_size
        smaller = f"a --batch-size of at most {fits}" if fits else "fewer processes"
        raise ValueError(f"{count} {what} make no batch of {batch_size} on each of {ctx.world_size} process(es): "
                         f"use {smaller}, or {more}")
    return steps


class ForkSafeLoader(DataLoader):
    """A DataLoader whose worker processes are forked while OpenCV runs on one thread, and keep that one
    thread (the workers are the parallelism). A child forked while OpenCV's thread pool is up hangs at
    its first parallel OpenCV call: a training whose process had just generated Builtin-train hung
    before its first step."""

    def __iter__(self):
        threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        try:
            return super().__iter__()
        finally:
            cv2.setNumThreads(threads)


def epoch_loader(dataset, batch_size: int, workers: int, seed: int, epoch: int, skip_batches: int, ctx) -> DataLoader:
    """This process's share of one shuffled epoch (``DistributedSampler``, the same order for a given
    ``seed`` and ``epoch``), starting after ``skip_batches`` batches so that a resumed run continues where
    it stopped. Its generator is its own, so the global RNG (which losses may draw from) stays untouched
    and a resumed run matches an uninterrupted one."""
    sampler = DistributedSampler(dataset, num_replicas=ctx.world_size, rank=ctx.rank, shuffle=True, seed=seed,
                                 drop_last=True)
    sampler.set_epoch(epoch)
    indices = list(sampler)[skip_batches * batch_size:]
    generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return ForkSafeLoader(dataset, batch_size=batch_size, sampler=indices, drop_last=True, num_workers=workers,
                          pin_memory=ctx.device.type == "cuda", generator=generator)


class DatasetEpochs:
    """A torch ``dataset`` in shuffled epochs of full batches (:func:`epoch_loader`); a dataset with
    ``set_epoch`` (:class:`ientrack.data.pairs.TrainingPairs`) draws new items each epoch. ``what`` and
    ``more`` word the error when the data make no batch (:func:`steps_per_epoch`)."""

    def __init__(self, dataset, batch_size: int, workers: int, seed: int, ctx, what: str, more: str):
        self.dataset, self.batch_size, self.workers, self.seed, self.ctx = dataset, batch_size, workers, seed, ctx
        self.steps_per_epoch = steps_per_epoch(len(dataset), batch_size, ctx, what, more)

    def epoch(self, epoch: int, skip: int):
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)
        return epoch_loader(self.dataset, self.batch_size, self.workers, self.seed, epoch, skip, self.ctx)


class StepEpochs:
    """Epochs of ``steps_per_epoch`` place holders, for an actor that draws each batch itself from the
    step number (:class:`ientrack.train.canon_actor.CanonActor`: a resumed run draws the same batches)."""

    def __init__(self, steps_per_epoch: int):
        self.steps_per_epoch = steps_per_epoch

    def epoch(self, epoch: int, skip: int):
        return range(skip, self.steps_per_epoch)
