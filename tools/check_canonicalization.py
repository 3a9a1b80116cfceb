"""Rotated ImageNet top-1 of EfficientNet-Lite0 alone and behind a canonicalizer, and the latency ratio.

    python tools/check_canonicalization.py --images /data/imagenet_samples \
        --canonicalizer trackers/canonicalizer_c4.pt --select odd

``--images``: a folder with ``subset_index.csv`` (columns ``class_index`` and ``file``: ILSVRC class index
per image). Images: shorter side 256 (bilinear), centre crop 224. C4-averaged top-1 is the mean over the
four exact quarter turns (docs/PROTOCOLS.md). Latency: median wall time of one batch, same batch, same
process, for the extractor alone and with the canonicalizer in front.
"""
import argparse
import csv
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

from ientrack.equivariance.canonicalize import CanonicalizedModel, load_canonicalizer
from ientrack.models.efficientnet_lite import efficientnet_lite0
from ientrack.models.siamese import fuse_conv_bn


def center_crop(path: Path, resize: int = 256, size: int = 224) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{path}: cannot be decoded as an image")
    image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    h, w = image.shape[:2]
    scale = resize / min(h, w)
    image = cv2.resize(image, (max(size, round(w * scale)), max(size, round(h * scale))))
    h, w = image.shape[:2]
    return image[(h - size) // 2:(h - size) // 2 + size, (w - size) // 2:(w - size) // 2 + size]


def load_labelled(folder: Path, select: str):
    index = folder / "subset_index.csv"
    if not index.is_file():
        raise FileNotFoundError(f"{index} is missing: it maps each image file to its ILSVRC class index")
    rows = sorted(csv.DictReader(open(index)), key=lambda r: r["file"])
    rows = {"all": rows, "even": rows[0::2], "odd": rows[1::2]}[select]
    x = torch.from_numpy(np.stack([center_crop(folder / r["file"]) for r in rows])).permute(0, 3, 1, 2).float()
    return x, torch.tensor([int(r["class_index"]) for r in rows])


@torch.inference_mode()
def top1_per_rotation(model, x, labels, batch: int) -> list[float]:
    accuracies = []
    for k in tqdm(range(4), desc="quarter turns", leave=False):
        turned = torch.rot90(x, k, dims=(-2, -1))
        predicted = torch.cat([model(turned[i:i + batch]).argmax(1) for i in range(0, len(x), batch)])
        accuracies.append((predicted == labels).float().mean().item())
    return accuracies


@torch.inference_mode()
def median_latency(model, x, repeats: int) -> float:
    model(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model(x)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", required=True, type=Path, help="folder with subset_index.csv")
    parser.add_argument("--canonicalizer", default="trackers/canonicalizer_c4.pt")
    parser.add_argument("--select", default="all", choices=["all", "even", "odd"],
                        help="which images (sorted by file name) to score; the shipped canonicalizer was "
                             "trained on 'even', so 'odd' is held out")
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: leave the default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    x, labels = load_labelled(args.images, args.select)
    extractor = fuse_conv_bn(efficientnet_lite0(pretrained=True))  # batch norm folded, as the trackers run it
    canonicalized = CanonicalizedModel(fuse_conv_bn(load_canonicalizer(args.canonicalizer)), extractor).eval()
    print(f"{len(x)} images from {args.images} (select={args.select}); top-1 at 0/90/180/270 degrees")
    for name, model in (("extractor alone", extractor), ("canonicalizer + extractor", canonicalized)):
        acc = top1_per_rotation(model, x, labels, args.batch)
        print(f"{name:28s} upright {acc[0]:.3f}  C4-averaged {np.mean(acc):.3f}  per turn "
              + " ".join(f"{a:.3f}" for a in acc))
    batch = x[:args.batch]
    alone = median_latency(extractor, batch, args.repeats)
    both = median_latency(canonicalized, batch, args.repeats)
    print(f"latency, batch {len(batch)}: extractor {1000 * alone:.1f} ms, canonicalizer + extractor "
          f"{1000 * both:.1f} ms, ratio {both / alone:.2f}")


if __name__ == "__main__":
    main()
