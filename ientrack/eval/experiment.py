"""What ``tools/test.py`` does: run trackers over a dataset (OPE), then score them. The torchrun
coordination is :mod:`.ranks`'s, the GOT-10k toolkit's run (``--harness got10k``) :mod:`.got10k_test`'s,
the scoring of results on disk :mod:`.scoring`'s."""
import os

from ientrack.atomic import check_writable
from ientrack.data.registry import load_dataset
from ientrack.device import resolve_device
from ientrack.eval.ranks import is_main_rank, use_the_rank_gpu, wait_for_all_ranks
from ientrack.eval.report import evaluate, markdown_table
from ientrack.eval.results_io import videos_dir
from ientrack.eval.runner import OPEError, run_ope
from ientrack.eval.tracker_spec import TrackerSpec, spec_name


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
        from ientrack.eval.got10k_test import run_got10k_test  # the toolkit imported only when asked for

        return run_got10k_test(names, dataset, dataset_root, results_dir, report_dir, overrides)
    if harness != "ientrack":
        raise ValueError(f"--harness must be 'ientrack' or 'got10k', not {harness!r}")
    specs = [TrackerSpec(name, overrides) for name in names]
    tracker_names = [spec_name(spec) for spec in specs]  # an unknown tracker fails before any work
    if overrides.get("weights") and not os.path.isfile(overrides["weights"]):
        raise FileNotFoundError(f"weights file {overrides['weights']} not found")
    # CUDA asked for where there is none: say so even if all is done
    use_the_rank_gpu(resolve_device(overrides.get("device")))
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
    wait_for_all_ranks()
    if failure is not None:
        raise failure
    if not is_main_rank():
        return None, None
    report = evaluate(data, tracker_names, results_dir, report_dir)
    return report, markdown_table(report)


def _recorder(vis, results_dir, dataset, tracker):
    if not vis:
        return None
    from ientrack.vis.display import display_available
    from ientrack.vis.recorder import SequenceRecorder

    return SequenceRecorder(str(videos_dir(results_dir, dataset, tracker)), show=display_available())
