#!/usr/bin/env python
"""Train one tracker with several seeds at once, score each on the development datasets, and name the best.

  python tools/seed_sweep.py --tracker ien_siamfc --seeds 0 1 2 3 --out runs/ien_sweep -- \\
      --data Builtin-train --data Builtin-still-train --image-folder DIR \\
      --repeat 8 --batch-size 16 --epochs 20 --workers 3 --device cuda

Everything after ``--`` goes to tools/train.py, which each seed runs as ``... --seed S --out OUT/seedS
--export OUT/seedS.pt`` (log: OUT/seedS.log), ``--parallel`` of them at a time (default: all; four fit on
one GPU; on a CPU run one at a time). A rerun resumes the seeds that did not finish (train.py resumes
from OUT/seedS/last.pt). Then each seed's weights run on every ``--datasets`` entry (default Builtin and
Builtin-still, the synthetic development sets) with the tracker's own search settings; results go under
OUT/seedS/step<N>, so a seed trained further is scored again. The table gives each dataset's success AUC
and their mean, the development score of the model cards (ientrack/zoo/ien_siamfc.md),
and is also written to OUT/sweep.md.
"""
import argparse
import subprocess
import sys
from pathlib import Path

from ientrack.atomic import write_text_atomic
from ientrack.checkpoint import load_checkpoint
from ientrack.cli import tool_main
from ientrack.eval.compare import dataset_roots, root_for
from ientrack.eval.experiment import run_test

TRAIN = Path(__file__).resolve().parent / "train.py"


def seed_weights(out: Path, seed: int) -> Path:
    """Where seed ``seed``'s trained weights go (its run folder is the same name without ``.pt``)."""
    return out / f"seed{seed}.pt"


def train_seeds(tracker_args, train_args, seeds, out: Path, parallel: int) -> None:
    """Run tools/train.py once per seed, ``parallel`` at a time; a failed seed names its log."""
    pending = list(seeds)
    while pending:
        batch, pending = pending[:parallel], pending[parallel:]
        running = []
        for seed in batch:
            log = out / f"seed{seed}.log"
            weights = seed_weights(out, seed)
            command = [sys.executable, str(TRAIN), *tracker_args, *train_args, "--seed", str(seed),
                       "--out", str(weights.with_suffix("")), "--export", str(weights)]
            with open(log, "a", encoding="utf-8") as f:
                running.append((seed, log, subprocess.Popen(command, stdout=f, stderr=subprocess.STDOUT)))
            print(f"seed {seed}: training, log {log}", flush=True)
        failed = [(seed, log) for seed, log, process in running if process.wait() != 0]
        if failed:
            raise RuntimeError("training failed for " + ", ".join(f"seed {s} (see {log})" for s, log in failed))


def score_seed(tracker: str, weights: Path, datasets, roots, out: Path, device: str, progress: bool) -> list:
    """Success AUC of ``tracker`` with ``weights`` on each dataset (results kept under ``out``)."""
    scores = []
    for dataset in datasets:
        report, _ = run_test(tracker, dataset, root_for(dataset, roots), allow_partial=True,
                             results_dir=str(out / "results"), report_dir=str(out / "reports"),
                             progress=progress, device=device, weights=str(weights))
        scores.append(next(iter(report.values()))["overall"]["success_auc"])
    return scores


def sweep_table(datasets, rows) -> str:
    """Markdown: one row per seed (steps, finished, AUC per dataset, mean), then the best seed."""
    lines = ["| seed | steps | finished | " + " | ".join(datasets) + " | mean |",
             "|---:|---:|---|" + "---:|" * (len(datasets) + 1)]
    means = [sum(scores) / len(scores) for _, _, scores in rows]
    for (seed, meta, scores), mean in zip(rows, means):
        lines.append(f"| {seed} | {meta.get('steps', '-')} | {meta.get('finished', '-')} | "
                     + " | ".join(f"{a:.3f}" for a in scores) + f" | {mean:.3f} |")
    best = rows[means.index(max(means))][0]
    return "\n".join(lines) + f"\n\nbest development score: seed {best}\n"


@tool_main(on_interrupt="rerun the same command to go on (training resumes, finished sequences are kept)")
def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    train_args = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracker", default=None, help="tracker name in the zoo")
    parser.add_argument("--config", default=None, help="tracker YAML path (replaces --tracker)")
    parser.add_argument("--seeds", type=int, nargs="+", required=True)
    parser.add_argument("--out", required=True, type=Path, help="folder of the runs, weights, logs and results")
    parser.add_argument("--parallel", type=int, default=0,
                        help="trainings at once (0: all seeds; on a CPU 1, since each uses every core)")
    parser.add_argument("--datasets", nargs="+", default=["Builtin", "Builtin-still"])
    parser.add_argument("--dataset-root", nargs="*", default=[], metavar="NAME=PATH")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="for the scoring")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(own)
    if (args.tracker is None) == (args.config is None):
        parser.error("name the tracker with --tracker NAME or --config PATH (one of them)")
    if {"--seed", "--out", "--export"} & set(train_args):
        parser.error("--seed, --out and --export are the sweep's to set; leave them out of the training arguments")
    tracker = args.config or args.tracker
    tracker_args = ["--config", args.config] if args.config else ["--tracker", args.tracker]
    args.out.mkdir(parents=True, exist_ok=True)
    train_seeds(tracker_args, train_args, args.seeds, args.out, args.parallel or len(args.seeds))
    roots = dataset_roots(args.dataset_root)
    rows = []
    for seed in args.seeds:
        weights = seed_weights(args.out, seed)
        meta = load_checkpoint(weights)[1]
        # results are kept per training step: a rerun that trained on does not reuse the old weights' boxes
        scored = weights.with_suffix("") / f"step{meta.get('steps', 0)}"
        rows.append((seed, meta, score_seed(tracker, weights, args.datasets, roots, scored, args.device,
                                            not args.no_progress)))
    table = sweep_table(args.datasets, rows)
    write_text_atomic(args.out / "sweep.md", table)
    print(table)


if __name__ == "__main__":
    main()
