"""Train a C4 canonicalizer on upright photos and video frames (see docs/CANONICALIZATION.md).

    python tools/train_canonicalizer.py --images /data/photos --sequences /data/real@train \
        --frame-kinds frames targets --checkpoint runs/canon_c4.pt --export ientrack/zoo/canonicalizer_c4.pt

``--images``: folders of upright photos; ``--select even`` trains on the even positions of their sorted
file list, leaving the odd ones for ``tools/check_canonicalization.py --select odd``. ``--sequences``:
tracking datasets (a name or a folder of sequences, ``folder@train`` for a split of its ``index.tsv``),
``--frames-per-sequence`` frames spread over each; ``--frame-kinds`` uses the whole frames and / or
square crops about the target (twice SiamFC's context window), each shrunk to a shorter side of 128 px.
Interrupt (Ctrl-C: the checkpoint is written, exit status 130) and re-run the same command to resume.
``--trunk e2cnn`` trains the steerable canonicalizer of Kaba et al. instead, on the prior alone (the
earlier method, to compare).
"""
import argparse
from pathlib import Path

import torch

from ientrack.cli import add_progress_option, tool_main
from ientrack.models.canonicalizers import build_canonicalizer
from ientrack.train.canon_tracker_training import FRAME_KINDS, upright_images
from ientrack.train.canon_trainer import loss_weights, read_image_folder, train_canonicalizer
from ientrack.train.settings import CanonSettings


@tool_main()
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", nargs="+", default=[], metavar="DIR",
                        help="folders of upright photos (searched recursively)")
    parser.add_argument("--select", default="all", choices=["all", "even", "odd"],
                        help="which of each --images folder's photos (sorted by path)")
    parser.add_argument("--sequences", nargs="+", default=[], metavar="DATASET",
                        help="tracking datasets whose frames are upright images, e.g. DIR@train")
    parser.add_argument("--frames-per-sequence", type=int, default=5,
                        help="frames spread evenly over each sequence (default %(default)s)")
    parser.add_argument("--frame-kinds", nargs="+", default=["frames"], choices=FRAME_KINDS,
                        help="frames: the whole frames; targets: a crop about the target (default: frames)")
    parser.add_argument("--max-images", type=int, default=None,
                        help="train on the first N selected photos of each --images folder (a data-scaling curve)")
    parser.add_argument("--trunk", default="lite0", choices=["lite0", "small", "e2cnn"],
                        help="lite0: frozen ImageNet EfficientNet-Lite0 stages; small: a small CNN from "
                             "scratch; e2cnn: the steerable canonicalizer, prior loss only")
    parser.add_argument("--trunk-stride", type=int, default=16)
    parser.add_argument("--size", type=int, default=None,
                        help="canonicalizer input size in pixels (default 64; e2cnn: 65, exact for its strides)")
    parser.add_argument("--width", type=int, default=16, help="e2cnn: channels of the first layer (then 2x, 2x)")
    parser.add_argument("--direct", action="store_true", help="predict the pose in one pass (no search)")
    parser.add_argument("--steps", type=int, default=CanonSettings.steps)
    parser.add_argument("--seed", type=int, default=CanonSettings.seed)
    parser.add_argument("--batch-size", "--batch", dest="batch_size", type=int, default=CanonSettings.batch_size)
    parser.add_argument("--lr", type=float, default=CanonSettings.lr)
    parser.add_argument("--bank-views", type=int, default=CanonSettings.bank_views,
                        help="cached augmented views per image (frozen trunk)")
    parser.add_argument("--contrastive", type=float, default=CanonSettings.contrastive,
                        help="weight of the contrastive term (default %(default)s; 0 for the e2cnn trunk)")
    parser.add_argument("--consistency", type=float, default=CanonSettings.consistency)
    parser.add_argument("--checkpoint", default="runs/canonicalizer_c4.pt", help="training checkpoint (resumed)")
    parser.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                        help="continue from --checkpoint when it exists")
    parser.add_argument("--save-every", type=int, default=CanonSettings.save_every,
                        help="steps between writes of the checkpoint")
    parser.add_argument("--export", default=None, help="also write the shippable float16 weights here")
    parser.add_argument("--device", default="auto", help="auto (CUDA where available), cpu, cuda or cuda:N")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: leave the default)")
    add_progress_option(parser)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    equivariant = args.trunk == "e2cnn"
    size = args.size or (65 if equivariant else 64)
    settings = {"trunk": args.trunk, "group": "C4", "size": size}
    if equivariant:
        settings["width"] = args.width
    else:
        settings["search"] = not args.direct
    if args.trunk == "lite0":
        settings["trunk_stride"] = args.trunk_stride
    build_canonicalizer(**settings, pretrained=False)  # bad settings (an inexact e2cnn input size): one line, exit 1
    if not args.images and not args.sequences:
        parser.error("give --images and / or --sequences: the upright images to learn from")
    images, sources = [], []
    for folder in args.images:
        photos = read_image_folder(folder, args.select)[0][:args.max_images]
        images += photos
        sources.append(f"{len(photos)} photos of {Path(folder).name} (select={args.select})")
    if args.sequences:  # the frames of the datasets, shrunk as upright_images does
        frames = upright_images(args.sequences, frames_per_sequence=args.frames_per_sequence,
                                progress=args.progress, kinds=args.frame_kinds)
        images += frames
        sources.append(f"{len(frames)} {' + '.join(args.frame_kinds)} of "
                       f"{', '.join(Path(name).name for name in args.sequences)}")
    print(f"training on {len(images)} upright images: {'; '.join(sources)}")
    config = CanonSettings(canonicalizer=settings, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                           bank_views=args.bank_views, save_every=args.save_every, seed=args.seed,
                           **loss_weights(settings, args.contrastive, args.consistency))
    data = {"trained_on": "; ".join(sources), "seed": args.seed}  # folder names only, never a workspace path
    _, losses = train_canonicalizer(images, config, checkpoint=args.checkpoint, resume=args.resume, device=args.device,
                                    export=args.export, extra_meta=data, progress=args.progress)
    if losses:
        print(f"final loss {sum(losses[-20:]) / len(losses[-20:]):.4f} after {config.steps} steps")
    if args.export:
        print(f"wrote {args.export}")

if __name__ == "__main__":
    main()
