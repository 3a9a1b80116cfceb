"""Train a C4 canonicalizer on a folder of upright photos (see docs/CANONICALIZATION.md).

    python tools/train_canonicalizer.py --images /data/imagenet_samples --select even \
        --checkpoint runs/canon_c4.pt --export ientrack/zoo/canonicalizer_c4.pt

``--select even`` trains on the even positions of the sorted file list, leaving the odd ones for
``tools/check_canonicalization.py --select odd``. Interrupt (Ctrl-C: the checkpoint is written, exit
status 130) and re-run the same command to resume.
``--trunk e2cnn`` trains the steerable canonicalizer of Kaba et al. instead, on the prior alone (the
earlier method, to compare).
"""
import argparse

import torch

from ientrack.cli import add_progress_option, tool_main
from ientrack.models.canonicalizers import build_canonicalizer
from ientrack.train.canon_trainer import loss_weights, read_image_folder, train_canonicalizer
from ientrack.train.settings import CanonSettings


@tool_main()
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", required=True, help="folder of upright photos (searched recursively)")
    parser.add_argument("--select", default="all", choices=["all", "even", "odd"])
    parser.add_argument("--max-images", type=int, default=None,
                        help="train on the first N of the selected images only (a data-scaling curve)")
    parser.add_argument("--trunk", default="lite0", choices=["lite0", "small", "e2cnn"],
                        help="lite0: frozen ImageNet EfficientNet-Lite0 stages; small: a small CNN from "
                             "scratch; e2cnn: the steerable canonicalizer, prior loss only")
    parser.add_argument("--trunk-stride", type=int, default=16)
    parser.add_argument("--size", type=int, default=None,
                        help="canonicalizer input size in pixels (default 64; e2cnn: 65, exact for its strides)")
    parser.add_argument("--width", type=int, default=16, help="e2cnn: channels of the first layer (then 2x, 2x)")
    parser.add_argument("--direct", action="store_true", help="predict the pose in one pass (no search)")
    parser.add_argument("--steps", type=int, default=CanonSettings.steps)
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
    images, names = read_image_folder(args.images, args.select)
    if args.max_images:
        images, names = images[:args.max_images], names[:args.max_images]
    config = CanonSettings(canonicalizer=settings, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                           bank_views=args.bank_views, save_every=args.save_every,
                           **loss_weights(settings, args.contrastive, args.consistency))
    trained_on = {"trained_on": f"{len(names)} images of {args.images} (select={args.select})"}
    _, losses = train_canonicalizer(images, config, checkpoint=args.checkpoint, resume=args.resume, device=args.device,
                                    export=args.export, extra_meta=trained_on, progress=args.progress)
    if losses:
        print(f"final loss {sum(losses[-20:]) / len(losses[-20:]):.4f} after {config.steps} steps")
    if args.export:
        print(f"wrote {args.export}")

if __name__ == "__main__":
    main()
