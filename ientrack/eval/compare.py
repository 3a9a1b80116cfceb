"""Many trackers over many datasets in one run, written up as one markdown page (``tools/compare.py``)."""
import datetime
import platform
from typing import Dict, List, Optional, Sequence

import torch

from ientrack.data.registry import canonical_name, parse_rot_prefix
from ientrack.eval.experiment import run_test
from ientrack.eval.paired import LEVEL, TIE, paired_difference
from ientrack.eval.speed import device_name


def dataset_roots(pairs: Sequence[str]) -> Dict[str, str]:
    """``["OTB100=/data/otb", ...]`` -> ``{"OTB100": "/data/otb"}``; errors name the bad entry."""
    roots = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"--dataset-root takes NAME=PATH (e.g. OTB100=/data/OTB100), got {pair!r}")
        roots[name] = path
    return roots


def root_for(dataset: str, roots: Dict[str, str]) -> Optional[str]:
    """The root of ``dataset`` or of its base name (``Rot4-OTB100`` reads ``OTB100``'s root)."""
    return roots.get(dataset) or roots.get(parse_rot_prefix(dataset)[1])


def machine(device: str) -> str:
    """One line naming the machine the numbers come from."""
    torch_device = torch.device("cuda" if device in ("auto", "cuda") and torch.cuda.is_available() else "cpu")
    return (f"{device_name(torch_device)}, {platform.system()} {platform.release()}, Python "
            f"{platform.python_version()}, torch {torch.__version__}")


def compare(trackers: List[str], datasets: List[str], roots: Dict[str, str], results_dir="results",
            report_dir="docs/reports", allow_partial=False, num_workers=1, device="auto", progress=True,
            overwrite=False, sequences=None):
    """Run and score every tracker on every dataset (only its ``sequences`` where given: each dataset must
    have them all); returns ``{dataset: (report, markdown table)}``, each dataset under its canonical name,
    the name of its report folder (``Rot2-OTB100``: ``Rot-OTB100``)."""
    tables = {}
    for dataset in datasets:
        tables[canonical_name(dataset)] = run_test(trackers, dataset, root_for(dataset, roots), allow_partial=allow_partial,
                                   results_dir=results_dir, report_dir=report_dir, num_workers=num_workers,
                                   progress=progress, device=device, overwrite=overwrite, sequences=sequences)
    return tables


def real_groups(datasets: Sequence[str]) -> Dict[str, List[str]]:
    """The real (not ``Builtin``) datasets pooled by rotation speed, where two or more share one:
    ``{"real": ["OTB100", "VOT"], "real, Rot2": ["Rot2-OTB100", "Rot2-VOT"], ...}``."""
    groups = {}
    for name in datasets:
        omega, base = parse_rot_prefix(name)
        if not base.lower().startswith("builtin"):
            groups.setdefault("real" if omega is None else f"real, Rot{omega:g}", []).append(name)
    return {label: names for label, names in groups.items() if len(names) > 1}


def _sequence_scores(report: Optional[dict], tracker: str, key: str) -> Dict[str, float]:
    sequences = ((report or {}).get(tracker) or {}).get("sequences", {})
    return {name: m[key] for name, m in sequences.items() if m.get(key) is not None}


def _sequence_values(report: Optional[dict], tracker: str, key: str) -> List[float]:
    return list(_sequence_scores(report, tracker, key).values())


def _overall(report: Optional[dict], tracker: str, key: str) -> Optional[float]:
    return ((report or {}).get(tracker) or {}).get("overall", {}).get(key)


def short_name(dataset: str) -> str:
    """A dataset's column header: a folder given by path shown by its last part (``Rot-real@val``)."""
    omega, base = parse_rot_prefix(dataset)
    if "/" not in base:
        return dataset
    return dataset[: len(dataset) - len(base)] + base.rstrip("/").rsplit("/", 1)[-1]


class _Pools:
    """Per-sequence means of ``key`` over each :func:`real_groups` pool of the datasets of ``tables``
    (``None`` for a tracker that lacks some of the pool's sequences)."""

    def __init__(self, tables: dict, key: str):
        self.tables, self.key = tables, key
        self.trackers = list(dict.fromkeys(t for report, _ in tables.values() for t in (report or {})))
        self.names = [d for d in tables if any(_overall(tables[d][0], t, key) is not None for t in self.trackers)]
        self.groups = real_groups(self.names)
        self.counts = {label: max(sum(len(_sequence_values(tables[d][0], t, key)) for d in members)
                                  for t in self.trackers) for label, members in self.groups.items()}

    def header(self, label: str) -> str:
        return f"{label} ({self.counts[label]} seq.)"

    def scores(self, tracker: str, label: str) -> Dict[tuple, float]:
        """``{(dataset, sequence): score}`` of ``tracker`` over the pool."""
        return {(d, s): a for d in self.groups[label] for s, a in _sequence_scores(self.tables[d][0], tracker, self.key).items()}

    def mean(self, tracker: str, label: str) -> Optional[float]:
        pooled = list(self.scores(tracker, label).values())
        return sum(pooled) / len(pooled) if len(pooled) == self.counts[label] else None


def _table(headers: List[str], rows: Dict[str, List[Optional[float]]]) -> str:
    lines = ["| tracker | " + " | ".join(headers) + " |", "|---|" + "---:|" * len(headers)]
    for tracker, values in rows.items():
        lines.append(f"| {tracker} | " + " | ".join("-" if a is None else f"{a:.3f}" for a in values) + " |")
    return "\n".join(lines)


def metric_matrix(tables: dict, key: str = "success_auc") -> str:
    """``key`` (a per-sequence metric of the reports) of each tracker (rows, in the order they ran) on each
    dataset that has it (columns), then the mean over the sequences of each :func:`real_groups` pool of
    those datasets (its column says how many sequences)."""
    pools = _Pools(tables, key)
    headers = [short_name(d) for d in pools.names] + [pools.header(label) for label in pools.groups]
    return _table(headers, {t: [_overall(tables[d][0], t, key) for d in pools.names]
                            + [pools.mean(t, label) for label in pools.groups] for t in pools.trackers})


def pooled_table(tables: dict) -> str:
    """The headline: each :func:`real_groups` pool's success AUC, then for the rotated pools the rotated
    success AUC (polygon IoU) and the share of frames with the angle within 45 degrees; empty without pools."""
    columns = [(label, "success_auc", "") for label in real_groups(list(tables))]
    if not columns:
        return ""
    rotated = [label for label, _, _ in columns if label != "real"]
    columns += [(label, "rotated_success_auc", ", rotated AUC") for label in rotated]
    columns += [(label, "orientation_within_45", ", angle ok") for label in rotated]
    pools = {key: _Pools(tables, key) for _, key, _ in columns}
    present = [(label, key, note) for label, key, note in columns if label in pools[key].groups]
    headers = [pools[key].header(label) + note for label, key, note in present]
    trackers = pools["success_auc"].trackers
    return _table(headers, {t: [pools[key].mean(t, label) for label, key, _ in present] for t in trackers})


def paired_table(tables: dict, reference: str) -> str:
    """Each tracker's success AUC against ``reference``'s, paired by sequence within each
    :func:`real_groups` pool (:mod:`ientrack.eval.paired`); empty without pools or without the reference."""
    pools = _Pools(tables, "success_auc")
    if not pools.groups or reference not in pools.trackers:
        return ""
    rows = {}
    for tracker in pools.trackers:
        if tracker != reference:
            pairs = [paired_difference(pools.scores(tracker, label), pools.scores(reference, label)) for label in pools.groups]
            rows[tracker] = ["-" if p is None else p.cell() for p in pairs]
    lines = ["| tracker | " + " | ".join(pools.header(label) for label in pools.groups) + " |",
             "|---|" + "---|" * len(pools.groups)]
    return "\n".join(lines + [f"| {t} | " + " | ".join(cells) + " |" for t, cells in rows.items()])


def results_page(tables: dict, command: str, device: str, reference: Optional[str] = None) -> str:
    """The markdown page: command, machine, the success AUC and orientation matrices, then each dataset's
    full table."""
    pooled = pooled_table(tables)
    headline = ["## Pooled real sequences", "",
                "Means over the sequences of every real (not Builtin) dataset below, at each rotation speed: success "
                "AUC; under rotation also the rotated success AUC (polygon IoU) and the share of frames with the "
                "angle within 45 degrees.", "", pooled, ""] if pooled else []
    paired = paired_table(tables, reference) if reference else ""
    if paired:
        headline += [f"## Paired against {reference}", "",
                     f"Success AUC minus {reference}'s, sequence by sequence, in each pool above: the mean difference, "
                     f"its {LEVEL:.0%} bootstrap interval over sequences, the sequences won / lost (by more than "
                     f"{TIE}), and the mean without the sequence of the largest difference (a gain that one "
                     "sequence decides changes sign there; `ientrack/eval/paired.py`).", "", paired, ""]
    parts = [
        "# Results", "",
        "Generated by this command (rerun it to regenerate this page; finished sequences are reused from "
        "the results folder unless `--overwrite`):", "", "```bash", command, "```", "",
        f"Machine: {machine(device)}. Date: {datetime.date.today().isoformat()}. Metrics: "
        "`docs/PROTOCOLS.md`. FPS is measured on this machine, with the frame decoding excluded.", "",
        *headline,
        "## Success AUC", "", metric_matrix(tables), "",
        "## Orientation: share of frames with the angle within 45 degrees", "",
        "Datasets with ground-truth angles (the Rot- datasets, Builtin, whose targets turn, and Builtin-still, "
        "whose targets wobble); the pooled "
        "columns are means over sequences, as for the AUC.", "",
        metric_matrix(tables, "orientation_within_45"), "",
    ]
    for dataset, (_, table) in tables.items():
        parts += [f"## {dataset}", "", table or "(no results)", ""]
    return "\n".join(parts)
