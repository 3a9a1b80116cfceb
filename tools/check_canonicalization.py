"""Rotated ImageNet top-1 of EfficientNet-Lite0 alone and behind a canonicalizer, and the latency ratio.

    python tools/check_canonicalization.py --images /data/imagenet_samples \
        --canonicalizer ientrack/zoo/canonicalizer_c4.pt --select odd
    python tools/check_canonicalization.py --images /data/imagenet_samples --select odd \
        --canonicalizer configs/ablations/canonicalizer_c4_e2cnn.pt --second-pose-below 0.5

``--images``: a folder with ``subset_index.csv`` (columns ``class_index`` and ``file``: ILSVRC class index
per image). Images: shorter side 256 (bilinear), centre crop 224. C4-averaged top-1 is the mean over the
four exact quarter turns (docs/PROTOCOLS.md). Latency: every image once (upright, in batches), the
extractor alone and the canonicalized model back to back, ``--repeats`` times in one process; the ratio
is the median of the paired ratios. ``--second-pose-below TAU ...``: the canonicalized model also tries
the canonicalizer's second pose where the classifier's confidence is below TAU
(``CanonicalizedModel(second_pose_below=TAU)``), one line per TAU with the share of images that took the
second pass; their latency is counted in the ratio. ``--canonicalizer A B``: the two canonicalizers'
pose log-probabilities summed (``PoseEnsemble``). ``--poses-only``: any folder of upright photos, no
labels: only the share of them whose pose the canonicalizer finds (the identity), read the same way; a
check that needs no ImageNet image (to choose a canonicalizer's training on held-out photos).
"""
import argparse
import statistics
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import TensorDataset

from ientrack.cli import add_progress_option, tool_main
from ientrack.data.labelled_images import center_crop, read_labelled_folder
from ientrack.equivariance.canonicalize import CanonicalizedModel, PoseEnsemble
from ientrack.eval.cls_metrics import C4_ANGLES, rotated_accuracy
from ientrack.eval.speed import timer
from ientrack.models.canonicalizers import load_canonicalizer
from ientrack.models.efficientnet_lite import efficientnet_lite0
from ientrack.models.siamese import fuse_conv_bn
from ientrack.trackers.registry import zoo_dir
from ientrack.train.canon_trainer import read_image_folder


def in_batches(fn, x, batch: int) -> torch.Tensor:
    """``fn`` over ``x`` in batches of ``batch``, the outputs concatenated (no gradients)."""
    with torch.no_grad():
        return torch.cat([fn(x[i:i + batch]) for i in range(0, len(x), batch)])


def paired_latency(reference, model, x, batch: int, repeats: int):
    """Median seconds of ``reference`` and of ``model`` over all of ``x`` in batches, and the median of
    their paired ratios (the two run back to back ``repeats`` times after a warm-up run of each)."""
    runs = [timer(lambda m=m: in_batches(m, x, batch), torch.device("cpu")) for m in (reference, model)]
    for run in runs:
        run()
    pairs = [(runs[0](), runs[1]()) for _ in range(repeats)]
    return (statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs),
            statistics.median(b / a for a, b in pairs))


def upright_crops(folder, select: str) -> torch.Tensor:
    """The photos under ``folder`` (no labels), read as :func:`read_labelled_folder` reads labelled ones."""
    images, _ = read_image_folder(folder, select)
    return torch.from_numpy(np.stack([center_crop(image) for image in images])).permute(0, 3, 1, 2).float()


def report_identity(canonicalizer, x, batch: int) -> None:
    """Print the share of the upright images ``x`` whose pose ``canonicalizer`` finds (the identity)."""
    poses = in_batches(canonicalizer.predict, x, batch)
    identity = canonicalizer.group.identity.index
    print(f"pose of the upright images: identity for {(poses == identity).float().mean():.3f} of them "
          f"(equivariant canonicalizers: the same share at every turn)")


def report(name, model, x, labels, batch, progress: bool):
    """Print ``model``'s top-1 upright, C4-averaged and at each quarter turn."""
    scores = rotated_accuracy(model, TensorDataset(x, labels), C4_ANGLES, batch, progress=progress)
    print(f"{name:28s} upright {scores['upright']:.3f}  C4-averaged {scores['c4']:.3f}  per turn "
          + " ".join(f"{scores['per_angle'][a]:.3f}" for a in C4_ANGLES))


@tool_main()
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", required=True, type=Path, help="folder with subset_index.csv")
    parser.add_argument("--canonicalizer", nargs="+", default=[str(zoo_dir() / "canonicalizer_c4.pt")], metavar="PATH",
                        help="a trained canonicalizer; several: their pose log-probabilities summed "
                             "(PoseEnsemble)")
    parser.add_argument("--select", default="all", choices=["all", "even", "odd"],
                        help="which images (sorted by file name) to score; the shipped canonicalizer was "
                             "trained on 'even', so 'odd' is held out")
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--second-pose-below", type=float, nargs="+", default=[], metavar="TAU",
                        help="also check the canonicalizer's second pose where the classifier's top "
                             "probability is below TAU (one report per value)")
    parser.add_argument("--poses-only", action="store_true",
                        help="--images: any folder of upright photos; print only the share whose pose is found")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: leave the default)")
    add_progress_option(parser)
    args = parser.parse_args(argv)
    if any(not 0.0 < tau <= 1.0 for tau in args.second_pose_below):
        parser.error(f"--second-pose-below takes probabilities in (0, 1], got {args.second_pose_below}")
    if args.threads:
        torch.set_num_threads(args.threads)
    try:  # a missing folder, index or checkpoint: a message, no traceback
        x, labels = (upright_crops(args.images, args.select), None) if args.poses_only else \
            read_labelled_folder(args.images, args.select)
        members = [load_canonicalizer(path) for path in args.canonicalizer]
        canonicalizer = members[0] if len(members) == 1 else PoseEnsemble(members)
    except (OSError, ValueError) as e:  # CheckpointError is an OSError
        parser.error(str(e))
    if args.poses_only:
        print(f"{len(x)} photos from {args.images} (select={args.select})")
        report_identity(fuse_conv_bn(canonicalizer).eval(), x, args.batch)
        return
    extractor = fuse_conv_bn(efficientnet_lite0(pretrained=True))  # batch norm folded, as the trackers run it
    canonicalized = CanonicalizedModel(fuse_conv_bn(canonicalizer), extractor).eval()
    print(f"{len(x)} images from {args.images} (select={args.select}); top-1 at 0/90/180/270 degrees")
    report("extractor alone", extractor, x, labels, args.batch, args.progress)
    report("canonicalizer + extractor", canonicalized, x, labels, args.batch, args.progress)
    report_identity(canonicalized.canonicalizer, x, args.batch)
    alone, both, ratio = paired_latency(extractor, canonicalized, x, args.batch, args.repeats)
    print(f"latency, {len(x)} images in batches of {args.batch}: extractor {1000 * alone:.0f} ms, "
          f"canonicalizer + extractor {1000 * both:.0f} ms, ratio {ratio:.2f}")
    for tau in args.second_pose_below:
        checked = CanonicalizedModel(canonicalized.canonicalizer, extractor, second_pose_below=tau).eval()
        report(f"+ second pose below {tau:g}", checked, x, labels, args.batch, args.progress)
        share = in_batches(checked.doubtful, x, args.batch)
        _, both, ratio = paired_latency(extractor, checked, x, args.batch, args.repeats)
        print(f"  second pass for {share.float().mean():.2f} of the images; latency {1000 * both:.0f} ms, "
              f"ratio {ratio:.2f}")


if __name__ == "__main__":
    main()
