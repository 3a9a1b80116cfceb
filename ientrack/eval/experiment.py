"""What ``tools/test.py`` does: run trackers over a dataset (OPE), score them, print and plot."""
import os
from datetime import timedelta
from pathlib import Path

import numpy as np
import torch

from ientrack.atomic import check_writable
from ientrack.data.registry import load_dataset
from ientrack.device import resolve_device
from ientrack.eval.report import evaluate, markdown_table
from ientrack.eval.runner import OPEError, run_ope
from ientrack.eval.tracker_spec import TrackerSpec, spec_name
from ientrack.distributed import rank_device


def _distributed() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def _use_the_rank_gpu(device: torch.device):
    """Under torchrun, "cuda" (a config's ``device: auto`` too) means this rank's GPU, not the first."""
    if _distributed() and torch.cuda.is_available() and device.type != "cpu":
        torch.cuda.set_device(rank_device("cuda"))


def _wait_for_all_ranks():
    """Under torchrun, rank 0 scores only after every rank has written its sequences (however long the
    slowest rank tracks: the barrier's timeout is a day, not the default 30 minutes)."""
    if _distributed():
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group("gloo", timeout=timedelta(days=1))
        dist.barrier()


def _is_main_rank() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def run_test(trackers, dataset="Builtin", dataset_root=None, allow_partial=False, results_dir="results",
             report_dir="reports", overwrite=False, num_workers=1, harness="ientrack", vis=False,
             progress=True, **overrides):
    """Run each tracker of ``trackers`` (names or config paths) over ``dataset`` and score them all.

    ``overrides`` go to :func:`ientrack.build_tracker` (``device``, ``weights``...). ``harness="got10k"``
    runs the GOT-10k toolkit's own experiment instead of our runner (same result layout and numbers).
    With ``vis``, a video per sequence is written under ``<results_dir>/<dataset>/<tracker>/videos``
    (or shown in a window where a display exists). Returns ``(report, markdown)``; under torchrun
    only rank 0 scores (the other ranks return ``(None, None)``).
    """
    names = [trackers] if isinstance(trackers, str) else list(trackers)
    if harness == "got10k":
        if vis:
            raise ValueError("--vis draws with ientrack's own runner; the GOT-10k toolkit's (--harness got10k) "
                             "has no such hook")
        return _run_got10k(names, dataset, dataset_root, results_dir, report_dir, overrides)
    if harness != "ientrack":
        raise ValueError(f"--harness must be 'ientrack' or 'got10k', not {harness!r}")
    specs = [TrackerSpec(name, overrides) for name in names]
    tracker_names = [spec_name(spec) for spec in specs]  # an unknown tracker fails before any work
    if overrides.get("weights") and not os.path.isfile(overrides["weights"]):
        raise FileNotFoundError(f"weights file {overrides['weights']} not found")
    # CUDA asked for where there is none: say so even if all is done
    _use_the_rank_gpu(resolve_device(overrides.get("device")))
    check_writable(results_dir, "results")
    check_writable(report_dir, "reports")
    data = load_dataset(dataset, dataset_root, allow_partial=allow_partial)
    failure = None
    for spec, tracker_name in zip(specs, tracker_names):
        vis_fn = _recorder(vis, results_dir, data.name, tracker_name)
        try:
            run_ope(spec, data, results_dir, overwrite=overwrite, num_workers=num_workers, progress=progress,
                    vis_fn=vis_fn)
        except OPEError as error:  # keep going: the other trackers' and ranks' work is still wanted
            failure = failure or error
    _wait_for_all_ranks()
    if failure is not None:
        raise failure
    if not _is_main_rank():
        return None, None
    report = evaluate(data, tracker_names, results_dir, report_dir)
    return report, markdown_table(report)


def _recorder(vis, results_dir, dataset, tracker):
    if not vis:
        return None
    from ientrack.vis.display import display_available
    from ientrack.vis.recorder import SequenceRecorder, videos_dir

    return SequenceRecorder(str(videos_dir(results_dir, dataset, tracker)), show=display_available())


def _run_got10k(names, dataset, dataset_root, results_dir, report_dir, overrides):
    from ientrack.data.registry import dataset_root as resolve_dataset_root
    from ientrack.eval.got10k_harness import run_got10k_harness

    root = resolve_dataset_root(dataset, dataset_root)
    if root is None:
        raise FileNotFoundError(f"--harness got10k: no root for {dataset}: pass --dataset-root (see datasets/README.md)")
    reports = {}
    for name in names:
        reports.update(run_got10k_harness(TrackerSpec(name, overrides), dataset, root, results_dir, report_dir) or {})
    return reports, _got10k_table(dataset, reports)


def _got10k_table(dataset, reports):
    """The toolkit's overall scalars (success_score, precision_score, ... or ao, sr50, ...) as a table."""
    if not reports:
        return None
    keys = [k for k, v in next(iter(reports.values()))["overall"].items() if np.ndim(v) == 0]
    lines = [f"| Tracker ({dataset}, GOT-10k toolkit) | " + " | ".join(keys) + " |", "|---|" + "---:|" * len(keys)]
    for name, report in reports.items():
        lines.append(f"| {name} | " + " | ".join(f"{float(report['overall'][k]):.3f}" for k in keys) + " |")
    return "\n".join(lines)


def score_results(dataset, trackers=None, dataset_root=None, allow_partial=False, results_dir="results",
                  report_dir="reports"):
    """Score results already on disk (ours or another toolkit's in the same layout) for ``trackers``
    (default: every tracker folder under ``<results_dir>/<dataset>/``). Returns ``(report, markdown)``."""
    data = load_dataset(dataset, dataset_root, allow_partial=allow_partial)
    folder = Path(results_dir) / data.name
    if not trackers:
        trackers = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    if not trackers:
        raise FileNotFoundError(f"no tracker results under {folder}: run tools/test.py first, or pass --results-dir")
    report = evaluate(data, trackers, results_dir, report_dir)
    return report, markdown_table(report)
