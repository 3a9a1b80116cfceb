"""Which bank rotation do a tracker's features prefer at the target's true position? A diagnostic for the
orientation of the bank trackers: it separates "the angle is lost with the target" from "the features
prefer a wrong rotation where the target is".

    python tools/bank_responses.py --tracker ien_siamfc --dataset Rot-OTB100 --root /data/OTB100 \
        --sequence Biker --every 20

The tracker is initialised on the first frame; for every ``--every``-th frame the middle-scale search crop
is centred on the ground-truth box and each bank entry's response there is printed (highest within one
response cell of the centre), with the ground-truth angle where the dataset has one (Rot- datasets).
"""
import argparse

import numpy as np

from ientrack import build_tracker
from ientrack.cli import tool_main
from ientrack.data.registry import load_dataset
from ientrack.geometry import box_center


@tool_main()
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracker", required=True, help="a bank tracker's name or config path")
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--root", default=None, help="the dataset's folder (else resolved as tools/test.py does)")
    parser.add_argument("--sequence", required=True)
    parser.add_argument("--every", type=int, default=20)
    parser.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--snapshot", default=None, help="weights file replacing the config's (as in tools/test.py)")
    args = parser.parse_args(argv)
    dataset = load_dataset(args.dataset, root=args.root, allow_partial=True)
    sequence = next((s for s in dataset if s.name == args.sequence), None)
    if sequence is None:
        present = ", ".join(s.name for s in dataset)
        raise ValueError(f"{args.dataset}: no sequence {args.sequence!r}; present: {present}")
    tracker = build_tracker(args.tracker, device=args.device, weights=args.snapshot)
    if not hasattr(tracker, "bank_responses"):
        raise ValueError(f"{args.tracker}: not a bank (SiamFC-type) tracker")
    tracker.init(sequence.frame(0), sequence.gt[0])
    angles = tracker.template_angles
    print("frame  gt_angle  best_entry  " + " ".join(f"{a:6.1f}" for a in angles))
    for i in range(args.every, len(sequence), args.every):
        responses = tracker.bank_responses(sequence.frame(i), box_center(sequence.gt[i]))
        gt = f"{sequence.angles[i] % 360:8.1f}" if sequence.angles is not None else "       -"
        print(f"{i:5d}  {gt}  {angles[int(np.argmax(responses))]:10.1f}  " + " ".join(f"{r:6.2f}" for r in responses))


if __name__ == "__main__":
    main()
