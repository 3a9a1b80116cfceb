"""A markdown table over classification results (``results.json`` files), mean and spread over seeds.

Runs with the same experiment ``name`` form one row; each accuracy is written ``mean ± std`` in percent
(the sample standard deviation over the seeds; ``± 0.00`` for a single seed), with the number of seeds.
"""
import json
import statistics
from pathlib import Path

from ientrack.atomic import write_text_atomic

RESULTS_NAME = "results.json"
METRICS = (("upright_acc", "upright"), ("c4_acc", "C4-avg"), ("c8_acc", "C8-avg"), ("random_rot_acc", "random rot"))


def load_results(folder) -> list:
    """Every ``results.json`` under ``folder`` (recursively), sorted by path."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"results folder not found: {folder}")
    runs = []
    for path in sorted(folder.rglob(RESULTS_NAME)):
        try:
            runs.append(json.loads(path.read_text()))
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not valid JSON ({error})") from error
    return runs


def _spread(values) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{100 * statistics.fmean(values):.2f} ± {100 * std:.2f}"


def collate_table(runs) -> str:
    """The markdown table of ``runs`` (result dicts), one row per experiment name in first-seen order; runs
    that did not finish (a ``--max-steps`` smoke run, an interrupted one) are rows of their own, marked
    ``(unfinished)``, so they never mix into the averages of finished seeds."""
    groups = {}
    for run in runs:
        name = run["name"] if run.get("finished", True) else f"{run['name']} (unfinished)"
        groups.setdefault(name, []).append(run)
    header = ["experiment", "model", "group", "fields", "beta", "seeds", "params (M)"]
    header += [label for _, label in METRICS] + ["s / epoch"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, group in groups.items():
        first = group[0]
        cells = [name, first["model"], first["group"], first["field_spec"], f"{first['beta']:g}",
                 str(len(group)), f"{first['params'] / 1e6:.2f}"]
        cells += [_spread([run.get(key) for run in group]) for key, _ in METRICS]
        cells.append(f"{statistics.fmean(run['seconds_per_epoch'] for run in group):.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_collated(folder, out_name: str = "results.md") -> Path:
    """Collate every run under ``folder`` into ``folder/out_name``; returns its path."""
    runs = load_results(folder)
    if not runs:
        raise FileNotFoundError(f"no {RESULTS_NAME} found under {folder}")
    return write_text_atomic(Path(folder) / out_name, collate_table(runs))
