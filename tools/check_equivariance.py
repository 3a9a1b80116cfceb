#!/usr/bin/env python
"""Check a network's rotation equivariance layer by layer: exact subsampling and measured error.

  python tools/check_equivariance.py --backbone alexnet --size 127
  python tools/check_equivariance.py --model torchvision:resnet18 --size 65
  python tools/check_equivariance.py --model steerable:C4 --size 33 --group C4
  python tools/check_equivariance.py --backbone alexnet --checkpoint weights.pth --size 255
  python tools/check_equivariance.py --backbone effnet_lite0_s8 --checkpoint ientrack/zoo/ien_siamfc.pt \
      --size 129 --images imagenet_samples/      # + the declared fields' errors on real images

Prints (layer, type, in size, stride, remainder, exact?, equivariance error) and ends with ``exact`` or
``not exact: first break at <layer>``; with ``--expect exact`` (or ``not-exact``) it then exits 1 where the
verdict is the other one (exit 0 otherwise, and always without ``--expect``). ``--checkpoint`` is a state
dict (or ``{"model": state_dict}`` / ``{"state_dict": ...}``, or a tracker's weights file such as
``ientrack/zoo/siamfc.pt``, whose ``backbone.*`` entries are used) for the chosen architecture, loaded
with ``torch.load(weights_only=True)``.
Steerable test nets: ``steerable:C4``, ``steerable:C8``, ``steerable:D4`` (conv5/2 -> conv3/2, 16 and 32
channels; exact at 33, 65, ...).
``--images DIR`` adds, for a network that declares its ``fields(group)`` (the IEN term's layers), each
declared layer's error after its field pooling, the mean over the centre squares of the images (resized to
``--size``), and their mean: the IEN metric on images the network never trained on.
"""
import argparse
from pathlib import Path

import cv2
import numpy as np
import torch

from ientrack.checkpoint import CheckpointError, load_weights_only
from ientrack.cli import tool_main
from ientrack.data.errors import listing
from ientrack.data.frames import read_frame
from ientrack.data.pairs import find_images
from ientrack.equivariance.measure import equivariance_errors
from ientrack.equivariance.check import check_table
from ientrack.equivariance.groups import group_from_name
from ientrack.models.siamese import backbone_state


def build_model(backbone: str | None, model: str | None):
    """The network named by ``--backbone`` (project registry) or ``--model`` (torchvision:/steerable:)."""
    if backbone:
        from ientrack.models.registry import build_backbone
        return build_backbone(backbone)
    source, _, name = model.partition(":")
    if source == "torchvision":
        import torchvision
        if not hasattr(torchvision.models, name):
            raise ValueError(f"torchvision.models has no model {name!r}")
        return getattr(torchvision.models, name)(weights=None)
    if source == "steerable":
        from ientrack.equivariance.steerable import steerable_cnn
        return steerable_cnn(channels=(16, 32), kernel_sizes=(5, 3), strides=(2, 2), group=name or "C4")
    raise ValueError(f"--model must be torchvision:<name> or steerable:<group>, got {model!r}")


def load_checkpoint(net, path: str):
    """Load a state dict saved for ``net`` (weights only: a checkpoint never runs code)."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    state = load_weights_only(path)
    for key in ("model", "state_dict"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: expected a state dict, got {type(state).__name__}")
    try:
        fit = net.load_state_dict(backbone_state(state), strict=False)
    except RuntimeError as error:  # tensors of other shapes: torch lists them over several lines
        problem = " ".join(str(error).split())
    else:
        problem = "; ".join(f"{what} {listing(keys, 5)}" for what, keys in
                            (("missing", fit.missing_keys), ("unexpected", fit.unexpected_keys)) if keys)
    if problem:
        raise ValueError(f"checkpoint {path} does not fit {type(net).__name__}: {problem}")


def centre_squares(folder: str, size: int) -> torch.Tensor:
    """The centre square of every image under ``folder``, area-resized to ``size``: (N, 3, size, size) 0..255."""
    squares = []
    for path in find_images(folder):
        image = read_frame(str(path))
        side = min(image.shape[:2])
        top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
        squares.append(cv2.resize(image[top:top + side, left:left + side], (size, size), interpolation=cv2.INTER_AREA))
    return torch.from_numpy(np.stack(squares)).permute(0, 3, 1, 2).float()


def declared_table(net, images: torch.Tensor, group) -> str:
    """Each declared layer's pooled error (mean over ``images``, in batches of 16) and their mean."""
    if not callable(getattr(net, "fields", None)):
        raise ValueError(f"--images measures the layers a network declares; {type(net).__name__} declares no fields")
    fields = net.fields(group)
    with torch.no_grad():
        batches = [dict(equivariance_errors(net, images[i:i + 16], group, fields, list(fields)))
                   for i in range(0, len(images), 16)]
    weights = [min(16, len(images) - i) for i in range(0, len(images), 16)]
    errors = {name: np.average([b[name] for b in batches], weights=weights) for name in fields}
    lines = [f"{'declared layer (pooled)':<28} {group.name + ' error':>12}"]
    lines += [f"{name:<28} {error:>12.4f}" for name, error in errors.items()]
    lines.append(f"{'mean over ' + str(len(images)) + ' images':<28} {np.mean(list(errors.values())):>12.4f}")
    return "\n".join(lines)


@tool_main()
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--backbone", help="a name from ientrack.models.registry")
    which.add_argument("--model", help="torchvision:<name> (weights=None) or steerable:<C4|C8|D4>")
    parser.add_argument("--checkpoint", help="state dict for the chosen architecture")
    parser.add_argument("--size", type=int, required=True, help="square input size in pixels")
    parser.add_argument("--group", default="C4", help="group to measure with: C4 (default), D4, C8...")
    parser.add_argument("--expect", choices=["exact", "not-exact"], default=None,
                        help="exit 1 (after the table) when the verdict is not this one (for scripts and CI)")
    parser.add_argument("--images", help="a folder of images: also the declared fields' errors on them")
    args = parser.parse_args(argv)
    net = build_model(args.backbone, args.model)
    if args.checkpoint:
        load_checkpoint(net, args.checkpoint)
    table = check_table(net, args.size, group_from_name(args.group))
    print(table)
    if args.images:
        print("\n" + declared_table(net, centre_squares(args.images, args.size), group_from_name(args.group)))
    verdict = "exact" if table.splitlines()[-1].startswith("exact:") else "not-exact"
    if args.expect and verdict != args.expect:
        raise ValueError(f"expected {args.expect} at size {args.size}, got {verdict}")


if __name__ == "__main__":
    main()
