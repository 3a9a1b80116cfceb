#!/usr/bin/env python
"""Each tracker's success AUC against a reference's, sequence by sequence, from reports already written.

  python tools/paired.py --report-dir docs/reports --reference siamfc
  python tools/paired.py --report-dir my_reports --reference effnet_siamfc --trackers canon_siamfc ien_siamfc \\
      --datasets OTB100 Rot-OTB100 real@val Rot-real@val

Reads ``<report-dir>/<dataset>/<tracker>/performance.json`` (written by tools/test.py and tools/compare.py;
default: every dataset folder there), pools the real datasets by rotation speed as docs/RESULTS.md does,
and prints, per pool, the mean difference, its bootstrap interval over sequences, the sequences won and
lost, and the mean without the sequence of the largest difference (ientrack/eval/paired.py). Nothing is
rerun. The same section closes the headline of tools/compare.py's page (its --reference).
"""
import argparse

from ientrack.cli import tool_main
from ientrack.eval.compare import paired_table
from ientrack.eval.report import read_reports


@tool_main()
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report-dir", default="docs/reports")
    parser.add_argument("--reference", default="siamfc", help="the tracker every other is paired against")
    parser.add_argument("--trackers", nargs="+", help="only these (default: every tracker with reports)")
    parser.add_argument("--datasets", nargs="+", help="report folders (default: every one under --report-dir)")
    args = parser.parse_args(argv)
    reports = read_reports(args.report_dir, args.datasets)
    keep = None if args.trackers is None else set(args.trackers) | {args.reference}
    tables = {d: ({t: r for t, r in by_tracker.items() if keep is None or t in keep}, "") for d, by_tracker in reports.items()}
    table = paired_table(tables, args.reference)
    if not table:
        raise ValueError(f"no pool of real datasets in {args.report_dir} has results of {args.reference!r} "
                         f"(datasets: {', '.join(reports)})")
    print(table)


if __name__ == "__main__":
    main()
