#!/usr/bin/env python
"""Run trackers over a benchmark (one-pass evaluation), then print the score table and write plots.

  python tools/test.py --tracker siamfc                          # the built-in benchmark, no download
  python tools/test.py --tracker ien_siamfc --dataset OTB100     # needs OTB100 (see datasets/README.md)
  python tools/test.py --tracker opencv_mil --dataset Rot-OTB100 --dataset-root /data/otb_some --allow-partial
  torchrun --nproc_per_node 4 tools/test.py --tracker siamfc --dataset GOT10k-val   # sequences split by rank

Results go to <results-dir>/<dataset>/<tracker>/ in the GOT-10k toolkit's layout (finished sequences are
skipped on a rerun unless --overwrite); reports and plots to <report-dir>/<dataset>/.
"""
import argparse

from ientrack.cli import tool_main
from ientrack.eval.experiment import run_test
from ientrack.eval.results_io import video_folders


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracker", "--config", dest="trackers", nargs="+", required=True,
                        help="tracker names from ientrack/zoo/*.yaml, or config paths (several run one after another)")
    parser.add_argument("--dataset", default="Builtin",
                        help="Builtin (default, no download), OTB100, GOT10k-val, VOT2018, Rot-OTB100, Rot4-...")
    parser.add_argument("--dataset-root", default=None, help="the dataset's folder (else env var or datasets/paths.yaml)")
    parser.add_argument("--allow-partial", action="store_true",
                        help="run the sequences present when the dataset is incomplete (warns which are missing)")
    parser.add_argument("--snapshot", default=None, help="weights file replacing the config's (pysot's flag)")
    parser.add_argument("--device", default=None, choices=["auto", "cpu", "cuda"])
    parser.add_argument("--num-workers", type=int, default=1, help="sequences tracked in parallel processes")
    parser.add_argument("--results-dir", default="results")
    parser.add_argument("--report-dir", default="reports")
    parser.add_argument("--overwrite", action="store_true", help="rerun sequences that already have results")
    parser.add_argument("--harness", default="ientrack", choices=["ientrack", "got10k"],
                        help="got10k: run the GOT-10k toolkit's own experiment (OTB, GOT-10k) instead")
    parser.add_argument("--vis", action="store_true",
                        help="draw results: a window where a display exists, else a video per sequence")
    parser.add_argument("--no-progress", action="store_true")
    return parser.parse_args(argv)


@tool_main(on_interrupt="finished sequences are kept; rerun the same command to go on")
def main(argv=None):
    args = parse_args(argv)
    report, table = run_test(
        args.trackers, args.dataset, args.dataset_root, args.allow_partial, args.results_dir,
        args.report_dir, args.overwrite, args.num_workers, args.harness, args.vis,
        progress=not args.no_progress, device=args.device, weights=args.snapshot)
    if table:
        print(table)
        dataset = next(iter(report.values())).get("dataset", args.dataset)
        print(f"\nscores and plots: {args.report_dir}/{dataset}/")
        if args.vis and (folders := video_folders(args.results_dir, dataset, report)):
            print("videos: " + ", ".join(folders))


if __name__ == "__main__":
    main()
