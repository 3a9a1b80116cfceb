"""Success and precision plots comparing trackers (matplotlib Agg; PNG and PDF), overall and per attribute.

Each takes the ``{tracker: report}`` dict of :func:`ientrack.eval.report.evaluate`; legends show each
tracker's score and are sorted best first; a tracker's colour and line style follow its name.
"""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the headless backend)

from ientrack.eval.metrics import CENTER_THRESHOLDS, IOU_THRESHOLDS, NORM_CENTER_THRESHOLDS  # noqa: E402

# curve key -> (thresholds, score key, x label, y label, title)
PLOTS = {
    "success_curve": (IOU_THRESHOLDS, "success_auc", "Overlap threshold", "Success rate", "Success plots of OPE"),
    "precision_curve": (CENTER_THRESHOLDS, "precision_20", "Location error threshold (px)", "Precision",
                        "Precision plots of OPE"),
    "norm_precision_curve": (NORM_CENTER_THRESHOLDS, "norm_precision_20", "Normalised location error threshold",
                             "Normalised precision", "Normalised precision plots of OPE"),
    "rotated_success_curve": (IOU_THRESHOLDS, "rotated_success_auc", "Polygon overlap threshold", "Success rate",
                              "Rotated success plots of OPE"),
}
LINE_STYLES = ["-", "--", "-.", ":"]
COLOURS = plt.get_cmap("tab10").colors
ATTRIBUTE_CURVES = ("success_curve", "precision_curve")  # plotted per attribute as well


def tracker_styles(names) -> dict:
    """``{tracker: (colour, line style)}``, the same in every plot of a report and, for the zoo's trackers,
    of every report: the zoo's names take the first places (in name order), other names the places after
    (in name order); ten colours with one line style, then the ten with the next."""
    from ientrack.trackers.registry import available_trackers

    zoo = available_trackers()
    order = zoo + sorted(set(names) - set(zoo))
    return {name: (COLOURS[i % len(COLOURS)], LINE_STYLES[(i // len(COLOURS)) % len(LINE_STYLES)])
            for i, name in enumerate(order) if name in names}


def plot_curves(scores: dict, curve: str, out_stem, title_suffix: str = "", styles: dict = None) -> list:
    """Plot ``curve`` of every tracker in ``scores`` (``{tracker: metrics}``) to ``out_stem``.png/.pdf,
    each tracker in its ``styles`` entry (default: :func:`tracker_styles` of ``scores``).

    Trackers without that curve are left out; returns the written paths (none if no tracker has it).
    """
    thresholds, score_key, xlabel, ylabel, title = PLOTS[curve]
    having = [(name, m) for name, m in scores.items() if m.get(curve) is not None and m.get(score_key) is not None]
    if not having:
        return []
    styles = styles or tracker_styles(list(scores))
    having.sort(key=lambda kv: (-kv[1][score_key], kv[0]))
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, m in having:
        colour, line_style = styles[name]
        ax.plot(thresholds, m[curve], line_style, color=colour, label=f"{name} [{m[score_key]:.3f}]")
    ax.set(xlabel=xlabel, ylabel=ylabel, xlim=(thresholds[0], thresholds[-1]), ylim=(0, 1),
           title=title + title_suffix)
    ax.grid(True)
    ax.legend(loc="center left", bbox_to_anchor=(1, 0.5), fontsize=8)
    out_stem = Path(out_stem)
    out_stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [out_stem.with_suffix(".png"), out_stem.with_suffix(".pdf")]
    for path in paths:  # no creation date in the PDF: the same scores give the same files
        fig.savefig(path, bbox_inches="tight", dpi=150,
                    metadata={"CreationDate": None} if path.suffix == ".pdf" else None)
    plt.close(fig)
    return paths


def _count(scores: dict) -> str:
    n = max(s["n_sequences"] for s in scores.values())
    return f"{n} sequence{'s' * (n != 1)}"


def plot_report(report: dict, out_dir) -> list:
    """Overall plots of every curve in ``out_dir`` and per-attribute success and precision plots in
    ``out_dir/attributes``; titles name the dataset (and attribute) and the number of sequences, and each
    tracker keeps one colour and line style throughout."""
    out_dir = Path(out_dir)
    dataset = next(iter(report.values()))["dataset"]
    styles = tracker_styles(list(report))
    overall = {name: r["overall"] for name, r in report.items()}
    paths = []
    for curve in PLOTS:
        paths += plot_curves(overall, curve, out_dir / curve.replace("_curve", "_plot"),
                             f" on {dataset} ({_count(overall)})", styles)
    attributes = list(dict.fromkeys(a for r in report.values() for a in r["attributes"]))
    for attr in attributes:
        scores = {name: r["attributes"][attr] for name, r in report.items() if attr in r["attributes"]}
        for curve in ATTRIBUTE_CURVES:
            stem = out_dir / "attributes" / f"{curve.replace('_curve', '')}_{attr}"
            paths += plot_curves(scores, curve, stem, f" on {dataset} - {attr} ({_count(scores)})", styles)
    return paths
