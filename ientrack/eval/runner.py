"""One-pass evaluation (OPE): run a tracker over every sequence of a dataset and write its results.

Parallel over sequences (spawned worker processes), split across ``torchrun`` ranks (``RANK`` /
``WORLD_SIZE``: rank ``r`` runs the sequences whose index ``% world_size == r``), resumable (a
sequence whose boxes file exists is skipped) and safe to interrupt (every file is written atomically,
the boxes file last). Speed: only the tracker's ``init`` / ``update`` calls are timed, frame decoding
is not.
"""
import multiprocessing
import os
import pickle
import traceback

import numpy as np
from tqdm import tqdm

from ientrack.eval import results_io
from ientrack.eval.provenance import check_and_record, tracker_provenance
from ientrack.eval.tracker_spec import TrackerSpec, as_spec, make_tracker, spec_name
from ientrack.trackers.base import TrackResult, initial_result, track_frames


class OPEError(RuntimeError):
    """Some sequences failed; ``failures`` maps their names to the error, ``finished`` lists the rest."""

    def __init__(self, failures: dict, finished: list):
        self.failures, self.finished = failures, finished
        lines = "\n".join(f"  {name}: {error.strip().splitlines()[-1]}" for name, error in failures.items())
        super().__init__(f"{len(failures)} sequence(s) failed (the other {len(finished)} are finished):\n{lines}")


def first_frame_result(seq) -> TrackResult:
    """Frame 0's result: the initial box (and the ground-truth polygon and angle where present)."""
    polygon = seq.polygons[0].copy() if seq.polygons is not None else None
    angle = float(seq.angles[0]) if seq.angles is not None else 0.0
    return initial_result(seq.init_box, polygon, angle)


def track_sequence(tracker, seq, progress: bool = False, vis_fn=None):
    """Run ``tracker`` over ``seq`` from its initial box; returns ``(results, times)`` per frame."""
    results, times = [], np.zeros(len(seq))
    frames = (seq.frame(f) for f in tqdm(range(len(seq)), desc=seq.name, unit="frame", leave=False,
                                         disable=not progress))
    for f, image, result, seconds in track_frames(tracker, frames, seq.init_box, first_frame_result(seq),
                                                  f"sequence {seq.name}, frame 0"):
        times[f] = seconds
        results.append(result)
        if vis_fn is not None:
            vis_fn(seq, f, image, result)
    return results, times


def run_sequence(tracker, seq, tdir, progress: bool = False, vis_fn=None) -> None:
    """Track one sequence and write its results files (boxes last); stale results are removed first."""
    results_io.remove_partial(tdir, seq.name)
    results_io.boxes_path(tdir, seq.name).unlink(missing_ok=True)
    results, times = track_sequence(tracker, seq, progress, vis_fn)
    results_io.write_sequence(
        tdir, seq.name,
        boxes=np.stack([np.asarray(r.box, dtype=np.float64).reshape(4) for r in results]),
        times=times,
        polygons=np.stack([np.asarray(r.as_polygon(), dtype=np.float64).reshape(8) for r in results]),
        angles=np.array([r.angle for r in results], dtype=np.float64),
        scores=np.array([r.score for r in results], dtype=np.float64),
    )


_worker_tracker = None


def _run_in_worker(task):
    """Worker-process task: build the tracker once per process, run one sequence, report any error."""
    global _worker_tracker
    spec, seq, tdir, vis_fn = task
    try:
        if _worker_tracker is None:
            _worker_tracker = make_tracker(spec)
        run_sequence(_worker_tracker, seq, tdir, vis_fn=vis_fn)
        return seq.name, None
    except Exception:  # reported to the parent, which carries on with the other sequences
        return seq.name, traceback.format_exc()


def _rank_and_world(rank, world_size):
    rank = int(os.environ.get("RANK", 0)) if rank is None else rank
    world_size = int(os.environ.get("WORLD_SIZE", 1)) if world_size is None else world_size
    if not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} is not in [0, world_size={world_size})")
    return rank, world_size


def _check_picklable(obj, what):
    try:
        pickle.dumps(obj)
    except Exception as error:
        raise TypeError(f"num_workers > 1 sends {what} to worker processes, but it cannot be pickled: {error}") from None


def run_ope(tracker_spec, dataset, results_dir, overwrite: bool = False, num_workers: int = 1,
            rank=None, world_size=None, progress: bool = True, vis_fn=None) -> list:
    """Run one tracker over ``dataset`` (OPE) and write ``results_dir/<dataset>/<tracker>/...``.

    ``tracker_spec``: see :mod:`ientrack.eval.tracker_spec`. ``rank`` / ``world_size`` default to the
    ``RANK`` / ``WORLD_SIZE`` environment variables that ``torchrun`` sets. ``vis_fn(seq, frame_index,
    image, result)`` is called after every frame. Returns the names of this rank's finished sequences
    (including those already finished before); raises :class:`OPEError` at the end if any sequence failed,
    and :class:`.provenance.StaleResultsError` at once if the folder holds results of other settings.
    """
    spec = as_spec(tracker_spec)
    local = None if isinstance(spec, TrackerSpec) else make_tracker(spec)
    name = local.name if local is not None else spec_name(spec)
    tdir = results_io.tracker_dir(results_dir, dataset.name, name)
    rank, world_size = _rank_and_world(rank, world_size)
    mine = [seq for i, seq in enumerate(dataset) if i % world_size == rank]
    todo = [seq for seq in mine if overwrite or not results_io.is_finished(tdir, seq.name)]
    check_and_record(tdir, tracker_provenance(spec), overwrite)
    failures = {}
    done = len(mine) - len(todo)  # finished in an earlier run: counted from the start
    bar = tqdm(total=len(mine), initial=done, desc=f"{name} on {dataset.name}", unit="seq", disable=not progress)
    bar.set_postfix(already_done=done)
    if num_workers <= 1:
        tracker = local if local is not None else (make_tracker(spec) if todo else None)
        for seq in todo:
            try:
                run_sequence(tracker, seq, tdir, progress, vis_fn)
            except Exception:
                failures[seq.name] = traceback.format_exc()
                tqdm.write(f"[{name}] sequence {seq.name} failed:\n{failures[seq.name]}")
            bar.update()
    elif todo:
        tasks = [(local if local is not None else spec, seq, tdir, vis_fn) for seq in todo]
        _check_picklable(tasks, "the tracker spec, the sequences and vis_fn")
        context = multiprocessing.get_context("spawn")
        with context.Pool(min(num_workers, len(todo))) as pool:
            for seq_name, error in pool.imap_unordered(_run_in_worker, tasks):
                if error is not None:
                    failures[seq_name] = error
                    tqdm.write(f"[{name}] sequence {seq_name} failed:\n{error}")
                bar.update()
    bar.close()
    finished = [s.name for s in mine if s.name not in failures and results_io.is_finished(tdir, s.name)]
    if failures:
        raise OPEError(failures, finished)
    return finished
