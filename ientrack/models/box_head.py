"""A box head for SiamFC trackers: the target's box regressed from the template and search features.

SiamFC reads only a position from its response and follows the size by a slow three-scale search with the
template's aspect ratio; the box is where its success AUC is lost (on real drone video it often finds the
target, precision 1.0 at 20 px, with an AUC of 0.35). Anchor-free heads (FCOS, SiamBAN, Ocean, NanoTrack)
regress the box from each response cell instead. :class:`BoxHead` is one: both feature maps through a
1 x 1 adjust layer, their depthwise cross-correlation (``C x 17 x 17`` for 9 x 9 on 25 x 25), a tower of two
3 x 3 convolutions, and at every cell four numbers relative to the template's own box (its size ``(w, h)``
in exemplar-crop pixels, which is also the size the tracker believes in, in search-crop pixels: both crops
scale with the believed size): the box centre's offset from the cell, in units of ``(w, h)``, and the log
of the box's size over ``(w, h)``. They start at zero, the tracker's belief, so the head learns corrections
(absolute distances to the sides, FCOS-style, learned the sizes of the few training targets and did worse
than the belief on held-out video). The cell at ``(i, j)`` of an ``n x n`` map lies at
``centre + stride * (j - (n - 1) / 2, i - (n - 1) / 2)``, the grid of SiamFC's displacement.
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from ientrack.checkpoint import load_checkpoint


def depthwise_xcorr(z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Each channel of template ``z[i]`` (``B x C x hz x wz``) slid over the same channel of ``x[i]``:
    ``B x C x h' x w'``."""
    b, c, h, w = x.shape
    out = F.conv2d(x.reshape(1, b * c, h, w), z.reshape(b * c, 1, *z.shape[-2:]), groups=b * c)
    return out.reshape(b, c, out.shape[-2], out.shape[-1])


def conv_bn_relu(cin: int, cout: int, kernel: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class BoxHead(nn.Module):
    """``forward(z, x)``: ``B x 4 x h' x w'`` corrections ``(dx, dy, log sw, log sh)`` at every cell (module
    docstring; :func:`decode_boxes`). ``channels``: the backbone's; ``width``: the head's own."""

    def __init__(self, channels: int, width: int = 64, stride: int = 8):
        super().__init__()
        self.stride = stride
        self.adjust_z = nn.Sequential(nn.Conv2d(channels, width, 1, bias=False), nn.BatchNorm2d(width))
        self.adjust_x = nn.Sequential(nn.Conv2d(channels, width, 1, bias=False), nn.BatchNorm2d(width))
        self.norm = nn.BatchNorm2d(width)
        self.tower = nn.Sequential(conv_bn_relu(width, width, 3), conv_bn_relu(width, width, 3))
        self.delta = nn.Conv2d(width, 4, 3, padding=1)
        nn.init.zeros_(self.delta.weight)
        nn.init.zeros_(self.delta.bias)  # the belief: the template's box about the cell

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        corr = self.norm(depthwise_xcorr(self.adjust_z(z), self.adjust_x(x)))
        return self.delta(self.tower(corr))


def cell_positions(size: int, stride: int, center: float) -> torch.Tensor:
    """``2 x size x size`` search-crop coordinates ``(u, v)`` of the cells of a ``size``-square map whose
    middle lies at pixel ``center`` (SiamFC's grid: ``stride`` pixels between cells)."""
    offsets = (torch.arange(size, dtype=torch.float32) - (size - 1) / 2) * stride + center
    v, u = torch.meshgrid(offsets, offsets, indexing="ij")
    return torch.stack([u, v])


def decode_boxes(delta: torch.Tensor, positions: torch.Tensor, template_size: torch.Tensor) -> torch.Tensor:
    """The head's output ``B x 4 x h x w`` at ``positions`` (``2 x h x w``) to corner boxes ``B x 4 x h x w``
    ``(x1, y1, x2, y2)``, with ``template_size`` ``B x 2`` the template box's ``(w, h)`` in pixels."""
    size = template_size[:, :, None, None]
    center = positions[None] + delta[:, :2] * size
    half = torch.exp(delta[:, 2:].clamp(-3.0, 3.0)) * size / 2
    return torch.cat([center - half, center + half], dim=1)


def load_box_head(path: str, stride: int, train_command: str) -> BoxHead:
    """The :class:`BoxHead` of a weights file written by ``tools/train.py --stage box_head`` (keys
    ``box_head.*``), in eval mode and float32; a missing file names ``train_command``."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"box head weights not found: {path}. Train them with `{train_command}`")
    state, _ = load_checkpoint(path)
    state = {k[len("box_head."):]: v.float() for k, v in state.items() if k.startswith("box_head.")}
    if "adjust_z.0.weight" not in state:
        raise ValueError(f"{path}: not a box head's weights (no box_head.adjust_z.0.weight)")
    width, channels = state["adjust_z.0.weight"].shape[:2]
    head = BoxHead(channels, width, stride)
    try:
        head.load_state_dict(state)
    except RuntimeError as error:
        raise ValueError(f"{path}: weights do not fit a box head: {str(error).splitlines()[1].strip()}") from None
    return head.eval()
