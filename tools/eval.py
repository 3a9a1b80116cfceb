#!/usr/bin/env python
"""Score and plot any set of trackers' results on a dataset, from result files already on disk.

  python tools/eval.py --dataset OTB100 --dataset-root /data/otb_some --allow-partial
  python tools/eval.py --dataset Rot-Builtin --tracker siamfc ien_siamfc --results-dir results

Results of other toolkits work too when they use the GOT-10k layout: <results-dir>/<dataset>/<tracker>/<seq>.txt.
"""
import argparse

from ientrack.cli import tool_main
from ientrack.eval.scoring import score_results


@tool_main()
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="Builtin")
    parser.add_argument("--dataset-root", default=None)
    parser.add_argument("--allow-partial", action="store_true")
    parser.add_argument("--tracker", "--tracker-prefix", dest="trackers", nargs="*", default=None,
                        help="tracker result folders to score (default: all under <results-dir>/<dataset>)")
    parser.add_argument("--results-dir", default="results")
    parser.add_argument("--report-dir", default="reports")
    args = parser.parse_args(argv)
    report, table = score_results(args.dataset, args.trackers, args.dataset_root, args.allow_partial,
                                  args.results_dir, args.report_dir)
    print(table)
    print(f"\nscores, plots and per-attribute plots: {args.report_dir}/{next(iter(report.values()))['dataset']}/")


if __name__ == "__main__":
    main()
