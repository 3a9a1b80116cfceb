#!/usr/bin/env python
"""Run every tracker over a list of datasets in one run and write the side-by-side report docs/RESULTS.md.

  python tools/compare.py --dataset-root OTB100=/data/otb VOT=/data/vot     # every tracker, every dataset
  python tools/compare.py --trackers siamfc opencv_mil --datasets Builtin Rot-Builtin --out my_results.md

Each dataset root is NAME=PATH (a Rot- dataset reads its base name's root); a dataset without one
resolves its root as tools/test.py does (IENTRACK_<NAME>_ROOT, IENTRACK_DATA, datasets/paths.yaml). Results are reused from
--results-dir where finished (--overwrite reruns them); the page is written whole, at the end.
"""
import argparse
import shlex
import sys

from ientrack.cli import add_progress_option, add_sequences_option, tool_main
from ientrack.eval.compare import compare, dataset_roots, results_page
from ientrack.trackers.opencv import available_algorithms
from ientrack.atomic import write_text_atomic

# the three rotation-equivariant trackers, their comparison points, and every OpenCV baseline this cv2 has
TRACKERS = ["siamfc", "ien_siamfc", "re_siamfc", "effnet_siamfc", "canon_siamfc"] + [
    f"opencv_{algorithm}" for algorithm in available_algorithms()]
DATASETS = ["Builtin", "Builtin-still", "OTB100", "Rot2-OTB100", "Rot4-OTB100", "VOT", "Rot2-VOT", "Rot4-VOT"]


@tool_main(on_interrupt="finished sequences are kept; rerun the same command to go on")
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trackers", nargs="+", default=TRACKERS, help="tracker names or config paths")
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    add_sequences_option(parser)
    parser.add_argument("--dataset-root", nargs="*", default=[], metavar="NAME=PATH")
    parser.add_argument("--allow-partial", action=argparse.BooleanOptionalAction, default=True,
                        help="run the sequences present when a dataset is incomplete (the samples are)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--num-workers", type=int, default=1)
    parser.add_argument("--results-dir", default="results")
    parser.add_argument("--overwrite", action="store_true", help="rerun sequences that already have results")
    parser.add_argument("--report-dir", default="docs/reports",
                        help="per-dataset reports and plots (default: docs/reports, published beside RESULTS.md)")
    parser.add_argument("--out", default="docs/RESULTS.md")
    parser.add_argument("--reference", default="siamfc",
                        help="the tracker every other is paired against, sequence by sequence (default siamfc; "
                             "the section is left out when it has no results)")
    add_progress_option(parser)
    args = parser.parse_args(argv)
    roots = dataset_roots(args.dataset_root)
    tables = compare(args.trackers, args.datasets, roots, args.results_dir, args.report_dir, args.allow_partial,
                     args.num_workers, args.device, args.progress, args.overwrite, args.sequences)
    command = "python tools/compare.py " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    page = results_page(tables, command.strip(), args.device, args.reference)
    write_text_atomic(args.out, page)
    print(page)
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
