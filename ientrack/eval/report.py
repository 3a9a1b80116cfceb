"""Score trackers' result files on a dataset: JSON performance reports, a markdown table, plots.

Every number follows docs/PROTOCOLS.md through :mod:`ientrack.eval.metrics`. Speed: ``fps`` is frames
tracked / total time spent in ``init`` + ``update``; ``fps_got10k`` is the GOT-10k toolkit's figure
(per sequence the mean of per-frame ``1 / t``, then the mean over sequences).
"""
import json
import warnings
from pathlib import Path

import numpy as np

from ientrack.atomic import write_text_atomic
from ientrack.data.errors import listing
from ientrack.data.sequence import Dataset
from ientrack.eval import results_io
from ientrack.eval.metrics import OTB_ATTRIBUTES, average_metrics, sequence_metrics

PLOT_SUFFIXES = (".png", ".pdf")
PROTOCOL_NOTE = ("OPE per docs/PROTOCOLS.md; normalised precision at 0.20 in the pysot/pytracking convention "
                 "(centre offset divided per axis by the ground-truth width and height)")


def _speeds(times_list):
    """``(fps, fps_got10k)`` over the sequences that have times (``None`` where none has)."""
    times_list = [t for t in times_list if t is not None]
    frames = sum(len(t) for t in times_list)
    total = sum(float(np.sum(t)) for t in times_list)
    per_seq = [float(np.mean(1.0 / t[t > 0])) for t in times_list if np.any(t > 0)]
    fps = frames / total if total > 0 else None
    return fps, (float(np.mean(per_seq)) if per_seq else None)


def _finite_or_none(x):
    return x if x is None or np.isfinite(x) else None


def _jsonable(metrics: dict) -> dict:
    """Arrays to lists and NaN to ``None`` (standard JSON)."""
    return {k: ([_finite_or_none(float(x)) for x in v] if isinstance(v, np.ndarray) else _finite_or_none(v))
            for k, v in metrics.items()}


def _attribute_order(dataset):
    present = {a for seq in dataset for a in seq.attributes}
    return [a for a in OTB_ATTRIBUTES if a in present] + sorted(present - set(OTB_ATTRIBUTES))


def evaluate_tracker(dataset, tracker_name: str, results_dir) -> dict:
    """The report of one tracker: ``overall``, ``sequences`` and ``attributes`` (see :func:`evaluate`)."""
    tdir = results_io.tracker_dir(results_dir, dataset.name, tracker_name)
    per_seq, times = {}, {}
    for seq in dataset:
        if seq.gt is None:
            raise ValueError(f"{dataset.name}/{seq.name} has no ground truth to score against")
        res = results_io.read_sequence(tdir, seq.name, len(seq))
        m = sequence_metrics(seq.gt, res.boxes, seq.polygons, res.polygons, seq.angles, res.angles)
        m["fps"], m["fps_got10k"] = _speeds([res.times])
        per_seq[seq.name], times[seq.name] = m, res.times
    overall = average_metrics(list(per_seq.values()))
    overall["fps"], overall["fps_got10k"] = _speeds(list(times.values()))
    attributes = {}
    for attr in _attribute_order(dataset):
        having = [per_seq[s.name] for s in dataset if attr in s.attributes]
        attributes[attr] = _jsonable(average_metrics(having))
    return {
        "dataset": dataset.name,
        "tracker": tracker_name,
        "protocol": PROTOCOL_NOTE,
        "overall": _jsonable(overall),
        "sequences": {name: _jsonable(m) for name, m in per_seq.items()},
        "attributes": attributes,
    }


def evaluate(dataset, tracker_names, results_dir, report_dir=None, plots: bool = True) -> dict:
    """Score each tracker's results under ``results_dir/<dataset>/<tracker>/``.

    Returns ``{tracker: report}``; a report has ``overall`` (``success_auc``, ``precision_20``,
    ``norm_precision_20``, ``rotated_success_auc`` where the dataset has polygons,
    ``orientation_mean_error`` / ``orientation_within_45`` where it has angles, ``fps``, ``fps_got10k``,
    ``n_sequences``, ``n_frames`` and the curves), the same per sequence, and per attribute. With
    ``report_dir``, writes the dataset's report (:func:`write_report`), which shows these trackers and
    every other one with results for all of the dataset's sequences on disk.
    """
    names = [tracker_names] if isinstance(tracker_names, str) else list(tracker_names)
    report = {name: evaluate_tracker(dataset, name, results_dir) for name in names}
    if report_dir is not None:
        write_report(dataset, report, results_dir, Path(report_dir) / dataset.name, plots)
    return report


def read_reports(report_dir, datasets=None) -> dict:
    """The reports :func:`write_report` left under ``report_dir``: ``{dataset: {tracker: report}}`` for
    ``datasets`` (folder names; default: every folder holding a ``*/performance.json``). A dataset without
    reports is a ``FileNotFoundError`` naming its folder; an unreadable report, a ``ValueError`` naming it."""
    root = Path(report_dir)
    if datasets is None:
        datasets = sorted({p.parent.parent.name for p in root.glob("*/*/performance.json")})
    reports = {}
    for dataset in datasets:
        files = sorted((root / dataset).glob("*/performance.json"))
        if not files:
            raise FileNotFoundError(f"{root / dataset}: no <tracker>/performance.json (run tools/test.py or "
                                    "tools/compare.py with this --report-dir first)")
        reports[dataset] = {}
        for path in files:
            try:
                reports[dataset][path.parent.name] = json.loads(path.read_text())
            except (OSError, ValueError) as error:
                raise ValueError(f"{path}: not a readable report ({error})") from None
    return reports


def _sequences_with_results(tdir, dataset) -> int:
    return sum(results_io.find_boxes(tdir, seq.name) is not None for seq in dataset)


def write_report(dataset, report: dict, results_dir, out: Path, plots: bool = True) -> dict:
    """Write ``out/<tracker>/performance.json``, ``out/summary.md`` and (``plots``) the plots for the trackers
    of ``report`` and every other tracker folder under ``results_dir/<dataset>/`` with results for all of
    ``dataset``'s sequences; ``summary.md`` says which trackers it shows and which it leaves out (results
    for some sequences only, or unreadable). Report files of trackers not shown are removed, and plots not
    rewritten, so that nothing in ``out`` is older than the summary. Returns the report shown."""
    shown, left_out = dict(report), {}
    folder = Path(results_dir) / dataset.name
    others = sorted(p for p in folder.iterdir() if p.is_dir() and p.name not in report) if folder.is_dir() else []
    for tdir in others:
        have = _sequences_with_results(tdir, dataset)
        if have == len(dataset):
            try:
                shown[tdir.name] = evaluate_tracker(dataset, tdir.name, results_dir)
            except results_io.ResultsError as error:
                left_out[tdir.name] = f"unreadable results: {error}"
        elif have:
            left_out[tdir.name] = f"results for {have} of the {len(dataset)} sequences"
    for name, tracker_report in shown.items():
        write_text_atomic(out / name / "performance.json", json.dumps(tracker_report, indent=2))
    for stale in out.glob("*/performance.json") if out.is_dir() else []:
        if stale.parent.name not in shown:
            stale.unlink()
            if not any(stale.parent.iterdir()):
                stale.parent.rmdir()
    summary = markdown_table(shown) + "\n\n" + _shown_note(dataset, shown, left_out, folder)
    write_text_atomic(out / "summary.md", summary + "\n")
    written = set()
    if plots:
        from ientrack.eval.plots import plot_report  # matplotlib only when plotting
        written = set(plot_report(shown, out))
    for old in [*out.glob("*.*"), *out.glob("attributes/*.*")]:
        if old.suffix in PLOT_SUFFIXES and old not in written:
            old.unlink()
    return shown


def _shown_note(dataset, shown, left_out, folder) -> str:
    sequences = listing(dataset.names)
    lines = [f"Trackers shown: every one with results under {folder} for all {len(dataset)} sequences "
             f"({sequences}): {', '.join(sorted(shown))}."]
    if left_out:
        lines.append("Not shown: " + "; ".join(f"{name} ({why})" for name, why in sorted(left_out.items())) + ".")
    return "\n".join(lines)


def common_sequences(dataset, tracker_names, results_dir):
    """``dataset`` cut to the sequences every tracker of ``tracker_names`` has results for; a warning names
    the sequences left out and the trackers that lack them. A ``ResultsError`` when no sequence is left."""
    lacking = {name: [seq.name for seq in dataset
                      if results_io.find_boxes(results_io.tracker_dir(results_dir, dataset.name, name), seq.name) is None]
               for name in tracker_names}
    left_out = {seq for names in lacking.values() for seq in names}
    if not left_out:
        return dataset
    kept = [seq for seq in dataset if seq.name not in left_out]
    gaps = "; ".join(f"{name} has none for {listing(seqs)}" for name, seqs in lacking.items() if seqs)
    if not kept:
        raise results_io.ResultsError(f"no sequence of {dataset.name} has results of every tracker ({gaps}); "
                                      "choose trackers with --tracker or sequences with --sequences")
    warnings.warn(f"scoring the {len(kept)} of {len(dataset)} sequences of {dataset.name} that every tracker "
                  f"has results for; left out: {gaps}", stacklevel=2)
    return Dataset(dataset.name, kept)


COLUMNS = [
    ("Success AUC", "success_auc", "{:.3f}"),
    ("Prec@20px", "precision_20", "{:.3f}"),
    ("NormPrec@0.2", "norm_precision_20", "{:.3f}"),
    ("Rot. success AUC", "rotated_success_auc", "{:.3f}"),
    ("Orient. err (deg)", "orientation_mean_error", "{:.1f}"),
    ("Orient. <=45deg", "orientation_within_45", "{:.3f}"),
    ("FPS", "fps", "{:.1f}"),
    ("FPS (got10k mean 1/t)", "fps_got10k", "{:.1f}"),
]


def markdown_table(report: dict) -> str:
    """One row per tracker (best success AUC first); columns no tracker has are left out. The header names
    the dataset and how many of its sequences were scored (a partial run says so)."""
    rows = sorted(report.items(), key=lambda kv: -kv[1]["overall"].get("success_auc", -1))
    columns = [c for c in COLUMNS if any(r["overall"].get(c[1]) is not None for _, r in rows)]
    first = next(iter(report.values()), {})
    label, count = first.get("dataset", ""), first.get("overall", {}).get("n_sequences")
    if count:
        label += f", {count} sequence{'s' * (count != 1)}"
    lines = [f"| Tracker ({label}) | " + " | ".join(c[0] for c in columns) + " |",
             "|---|" + "---:|" * len(columns)]
    for name, r in rows:
        cells = [fmt.format(r["overall"][key]) if r["overall"].get(key) is not None else "-"
                 for _, key, fmt in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
