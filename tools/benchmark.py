"""Speed of every tracker on the same frames, where a Siamese tracker's update spends its time, and how
close its step runs to this machine's compute limit.

Measures, in one run:
- frames per second of each tracker (init + update wall time over a built-in synthetic clip), with the
  median and best update of that pass;
- each tracker's speed relative to ``siamfc`` (``speed_vs_reference``): one ``update`` of every tracker
  back to back per round, the median ratio over 3 x ``--repeats`` rounds, so that load from other
  processes hits all alike (the fps column is one pass per tracker, one after another, and is not);
- for Siamese trackers, the time of each stage of an update (crop, canonicalizer, backbone, correlation,
  response upsampling, and the rest: peak search, state update, host copies), medians over 2 x
  ``--repeats`` interleaved rounds of instrumented updates (``ientrack/eval/stage_timing.py``);
- the backbone's FLOPs per frame (conv multiply-adds counted with hooks on the S scale crops, plus the
  correlation with the template bank; the template is computed once at init and excluded);
- this machine's convolution throughput (a 3x3 conv 256->256 on 8x256x32x32, channels-last, same torch
  and threads) and the ratio of the tracker's achieved FLOP/s to it, for the backbone step alone and for
  the whole update, medians over paired rounds.
The load average before and after is in the report: on a shared machine, trust the ratios, not the ms;
``--threads 1 --clock thread`` times by the CPU time of the benchmark's one thread, which other processes'
load barely changes (the fps, update median and best columns stay wall time of one pass).

    python tools/benchmark.py --device cpu --out benchmark.json --markdown benchmark.md \\
        [--trackers siamfc effnet_siamfc canon_siamfc] [--backend torch onnx] [--random-weights]

``--backend torch onnx`` times each tracker that takes a backend under both (rows ``name (torch)``,
``name (onnx)``); ``siamfc``, the reference, is always timed as configured.
"""
import argparse
import json

import torch

from ientrack import available_trackers
from ientrack.atomic import write_text_atomic
from ientrack.cli import tool_main
from ientrack.eval.speed import benchmark, markdown
from ientrack.models.onnx_runtime import BACKENDS


@tool_main()
def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trackers", nargs="+", default=None, help="tracker names (default: every registered one)")
    parser.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--backend", nargs="+", default=None, choices=BACKENDS,
                        help="backends to time the trackers that take one under (default: each tracker's own)")
    parser.add_argument("--threads", type=int, default=None, help="torch (and ONNX Runtime) threads (default: torch's)")
    parser.add_argument("--clock", default="wall", choices=["wall", "thread"],
                        help="thread: time by this thread's CPU time (needs --threads 1), steady on a loaded machine")
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=10, help="paired timing rounds (conv, backbone step, update)")
    parser.add_argument("--random-weights", action="store_true", help="time trackers whose weights are not trained yet")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    parser.add_argument("--markdown", default=None, help="write the tables as markdown here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    report = benchmark(args.trackers or available_trackers(), args.device, args.frames, args.repeats, args.random_weights,
                       args.backend, args.clock)
    text = markdown(report)
    print(text)
    if args.out:
        write_text_atomic(args.out, json.dumps(report, indent=2))
    if args.markdown:
        write_text_atomic(args.markdown, text + "\n")


if __name__ == "__main__":
    main()
