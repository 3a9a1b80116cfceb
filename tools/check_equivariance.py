#!/usr/bin/env python
"""Check a network's rotation equivariance layer by layer: exact subsampling and measured error.

  python tools/check_equivariance.py --backbone alexnet --size 127
  python tools/check_equivariance.py --model torchvision:resnet18 --size 65
  python tools/check_equivariance.py --model steerable:C4 --size 33 --group C4
  python tools/check_equivariance.py --backbone alexnet --checkpoint weights.pth --size 255

Prints (layer, type, in size, stride, remainder, exact?, equivariance error) and ends with ``exact`` or
``not exact: first break at <layer>``. ``--checkpoint`` is a state dict (or ``{"model": state_dict}`` /
``{"state_dict": ...}``, or a tracker's weights file such as ``ientrack/zoo/siamfc.pt``, whose
``backbone.*`` entries are used) for the chosen architecture, loaded with ``torch.load(weights_only=True)``.
Steerable test nets: ``steerable:C4``, ``steerable:C8``, ``steerable:D4`` (conv5/2 -> conv3/2, 16 and 32
channels; exact at 33, 65, ...).
"""
import argparse
from pathlib import Path

import torch

from ientrack.cli import tool_main
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
    state = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("model", "state_dict"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    try:
        net.load_state_dict(backbone_state(state))
    except RuntimeError as error:
        raise ValueError(f"checkpoint {path} does not fit {type(net).__name__}: {error}") from error


@tool_main()
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--backbone", help="a name from ientrack.models.registry")
    which.add_argument("--model", help="torchvision:<name> (weights=None) or steerable:<C4|C8|D4>")
    parser.add_argument("--checkpoint", help="state dict for the chosen architecture")
    parser.add_argument("--size", type=int, required=True, help="square input size in pixels")
    parser.add_argument("--group", default="C4", help="group to measure with: C4 (default), D4, C8...")
    args = parser.parse_args(argv)
    net = build_model(args.backbone, args.model)
    if args.checkpoint:
        load_checkpoint(net, args.checkpoint)
    print(check_table(net, args.size, group_from_name(args.group)))


if __name__ == "__main__":
    main()
