"""Rotated ImageNet top-1 of EfficientNet-Lite0 alone and behind a canonicalizer, and the latency ratio.

    python tools/check_canonicalization.py --images /data/imagenet_samples \
        --canonicalizer trackers/canonicalizer_c4.pt --select odd

``--images``: a folder with ``subset_index.csv`` (columns ``class_index`` and ``file``: ILSVRC class index
per image). Images: shorter side 256 (bilinear), centre crop 224. C4-averaged top-1 is the mean over the
four exact quarter turns (docs/PROTOCOLS.md). Latency: median wall time of one batch, same batch, same
process, for the extractor alone and with the canonicalizer in front.
"""
import argparse
import statistics
from pathlib import Path

import torch
from torch.utils.data import TensorDataset

from ientrack.cli import tool_main
from ientrack.data.labelled_images import read_labelled_folder
from ientrack.equivariance.canonicalize import CanonicalizedModel, load_canonicalizer
from ientrack.eval.cls_metrics import C4_ANGLES, rotated_accuracy
from ientrack.eval.speed import timer
from ientrack.models.efficientnet_lite import efficientnet_lite0
from ientrack.models.siamese import fuse_conv_bn


def median_latency(model, x, repeats: int) -> float:
    """Median seconds of ``model(x)`` over ``repeats`` runs after a warm-up run."""
    run = timer(lambda: model(x), torch.device("cpu"))
    run()
    return statistics.median(run() for _ in range(repeats))


@tool_main()
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", required=True, type=Path, help="folder with subset_index.csv")
    parser.add_argument("--canonicalizer", default="trackers/canonicalizer_c4.pt")
    parser.add_argument("--select", default="all", choices=["all", "even", "odd"],
                        help="which images (sorted by file name) to score; the shipped canonicalizer was "
                             "trained on 'even', so 'odd' is held out")
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: leave the default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:  # a missing folder, index or checkpoint: a message, no traceback
        x, labels = read_labelled_folder(args.images, args.select)
        canonicalizer = load_canonicalizer(args.canonicalizer)
    except (OSError, ValueError) as e:  # CheckpointError is an OSError
        parser.error(str(e))
    extractor = fuse_conv_bn(efficientnet_lite0(pretrained=True))  # batch norm folded, as the trackers run it
    canonicalized = CanonicalizedModel(fuse_conv_bn(canonicalizer), extractor).eval()
    print(f"{len(x)} images from {args.images} (select={args.select}); top-1 at 0/90/180/270 degrees")
    for name, model in (("extractor alone", extractor), ("canonicalizer + extractor", canonicalized)):
        scores = rotated_accuracy(model, TensorDataset(x, labels), C4_ANGLES, args.batch, progress=True)
        print(f"{name:28s} upright {scores['upright']:.3f}  C4-averaged {scores['c4']:.3f}  per turn "
              + " ".join(f"{scores['per_angle'][a]:.3f}" for a in C4_ANGLES))
    with torch.no_grad():
        poses = torch.cat([canonicalized.canonicalizer.predict(x[i:i + args.batch]) for i in range(0, len(x), args.batch)])
    identity = canonicalized.canonicalizer.group.identity.index
    print(f"pose of the upright images: identity for {(poses == identity).float().mean():.2f} of them "
          f"(equivariant canonicalizers: the same share at every turn)")
    batch = x[:args.batch]
    alone = median_latency(extractor, batch, args.repeats)
    both = median_latency(canonicalized, batch, args.repeats)
    print(f"latency, batch {len(batch)}: extractor {1000 * alone:.1f} ms, canonicalizer + extractor "
          f"{1000 * both:.1f} ms, ratio {both / alone:.2f}")


if __name__ == "__main__":
    main()
