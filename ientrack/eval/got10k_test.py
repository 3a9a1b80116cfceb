"""``tools/test.py --harness got10k``: the GOT-10k toolkit's own experiment for each tracker, and the
table of the toolkit's overall scores."""
import numpy as np

from ientrack.data.registry import dataset_root as resolve_dataset_root
from ientrack.eval.got10k_harness import run_got10k_harness
from ientrack.eval.tracker_spec import TrackerSpec


def run_got10k_test(names, dataset, dataset_root, results_dir, report_dir, overrides):
    """Each tracker of ``names`` through the toolkit's experiment for ``dataset``; ``(reports, table)``."""
    root = resolve_dataset_root(dataset, dataset_root)
    if root is None:
        raise FileNotFoundError(f"--harness got10k: no root for {dataset}: pass --dataset-root (see datasets/README.md)")
    reports = {}
    for name in names:
        reports.update(run_got10k_harness(TrackerSpec(name, overrides), dataset, root, results_dir, report_dir) or {})
    return reports, got10k_table(dataset, reports)


def got10k_table(dataset, reports):
    """The toolkit's overall scalars (success_score, precision_score, ... or ao, sr50, ...) as a table."""
    if not reports:
        return None
    keys = [k for k, v in next(iter(reports.values()))["overall"].items() if np.ndim(v) == 0]
    lines = [f"| Tracker ({dataset}, GOT-10k toolkit) | " + " | ".join(keys) + " |", "|---|" + "---:|" * len(keys)]
    for name, report in reports.items():
        lines.append(f"| {name} | " + " | ".join(f"{float(report['overall'][k]):.3f}" for k in keys) + " |")
    return "\n".join(lines)
