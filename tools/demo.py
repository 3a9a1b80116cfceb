#!/usr/bin/env python
"""Track a target in a video file, a camera or a folder of frames, and show or save the result.

  python tools/demo.py --tracker opencv_mil --source video.mp4 --box 100,80,40,60 --output out.mp4
  python tools/demo.py --tracker siamfc --source 0          # camera 0, box chosen with the mouse
"""
import argparse

from ientrack.cli import tool_main
from ientrack.vis.demo import run_demo


@tool_main()
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracker", "--config", dest="tracker", default="opencv_mil", help="tracker name or YAML config")
    parser.add_argument("--snapshot", default=None, help="weights file replacing the config's")
    parser.add_argument("--source", required=True, help="video file, image folder or camera index")
    parser.add_argument("--box", default=None, help="initial box x,y,w,h (0-based pixels); omit to draw it with the mouse")
    parser.add_argument("--output", default=None,
                        help="write the annotated video here (.mp4; .avi MJPG fallback); without it and without a "
                             "window (no display, or --no-window) nothing is shown or saved, and a warning says so")
    parser.add_argument("--no-window", action="store_true", help="never open a window")
    parser.add_argument("--max-frames", type=int, default=None)
    parser.add_argument("--device", default=None, choices=["auto", "cpu", "cuda"])
    args = parser.parse_args(argv)
    box = None
    if args.box:
        try:
            box = [float(v) for v in args.box.split(",")]
            assert len(box) == 4 and box[2] > 0 and box[3] > 0
        except (ValueError, AssertionError):
            parser.error(f"--box must be four numbers x,y,w,h with w, h > 0, got {args.box!r}")
    run_demo(args.tracker, args.source, box, args.output, show=False if args.no_window else None,
             max_frames=args.max_frames, weights=args.snapshot, device=args.device)


if __name__ == "__main__":
    main()
