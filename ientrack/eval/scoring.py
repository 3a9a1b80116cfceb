"""Scoring results already on disk (``tools/eval.py``): ours or another toolkit's in the same layout."""
from pathlib import Path

from ientrack.data.registry import load_dataset
from ientrack.eval.report import evaluate, markdown_table


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
