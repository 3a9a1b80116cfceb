"""Speed of every tracker on the same frames, and how close SiamFC's step runs to this machine's compute limit.

Measures, in one run:
- frames per second of each tracker (init + update wall time over a built-in synthetic clip);
- each tracker's speed relative to ``siamfc`` (``speed_vs_reference``): one ``update`` of every tracker
  back to back per round, the median ratio over 3 x ``--repeats`` rounds, so that load from other
  processes hits all alike (the fps column is one pass per tracker, one after another, and is not);
- the backbone's FLOPs per frame (conv multiply-adds counted with hooks on the S scale crops, plus the
  correlation with the template bank; the template is computed once at init and excluded);
- this machine's convolution throughput (a 3x3 conv 256->256 on 8x256x32x32, channels-last, same torch
  and threads) and the ratio of the tracker's achieved FLOP/s to it, for the backbone step alone and for
  the whole update. The conv, the step and the update are timed back to back in rounds and the ratio is
  the median over rounds, so that load from other processes on a shared machine hits both sides alike.

    python tools/benchmark.py --device cpu --out benchmark.json [--trackers siamfc opencv_mil] [--random-weights]
"""
import argparse
import json

from ientrack import available_trackers
from ientrack.atomic import write_text_atomic
from ientrack.cli import tool_main
from ientrack.eval.speed import benchmark, markdown


@tool_main()
def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trackers", nargs="+", default=None, help="tracker names (default: every registered one)")
    parser.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=10, help="paired timing rounds (conv, backbone step, update)")
    parser.add_argument("--random-weights", action="store_true", help="time trackers whose weights are not trained yet")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args()
    report = benchmark(args.trackers or available_trackers(), args.device, args.frames, args.repeats, args.random_weights)
    print(markdown(report))
    if args.out:
        write_text_atomic(args.out, json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
