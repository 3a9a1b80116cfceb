"""The Siamese network: one backbone for template and search, and a correlation head."""
import copy

import torch
import torch.nn as nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from ientrack.models.heads import XCorrHead


class SiameseNet(nn.Module):
    """``forward(z, x)``: pairwise responses ``B x 1 x h x w`` of templates ``z`` on searches ``x``
    (images ``B x 3 x H x W``, float RGB 0..255), as training uses it."""

    #: the backbone's calls in :meth:`forward`, in order: hooks on its layers see the exemplar batch, then the search
    BRANCHES = ("exemplar", "search")

    def __init__(self, backbone: nn.Module, head: nn.Module = None):
        super().__init__()
        self.backbone = backbone
        self.head = head if head is not None else XCorrHead()

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        exemplar = self.backbone(z)  # the order of BRANCHES
        search = self.backbone(x)
        return self.head(exemplar, search)


def backbone_state(state: dict) -> dict:
    """The backbone's part of a state dict: the ``backbone.*`` entries of a :class:`SiameseNet` checkpoint
    with the prefix removed, or the whole dict when it holds a bare backbone."""
    if any(k.startswith("backbone.") for k in state):
        return {k[len("backbone."):]: v for k, v in state.items() if k.startswith("backbone.")}
    return state


def fuse_conv_bn(module: nn.Module) -> nn.Module:
    """A copy of ``module`` in eval mode where every ``Conv2d`` directly followed by a ``BatchNorm2d``
    inside an ``nn.Sequential``, and every pair a module names in its ``conv_bn_pairs`` (attribute names
    ``(conv, bn)``, for modules that call them in their own ``forward``), is folded into one convolution
    (same outputs, fewer passes)."""
    module = copy.deepcopy(module).eval()
    for parent in list(module.modules()):
        names = list(parent._modules)
        pairs = list(zip(names, names[1:])) if isinstance(parent, nn.Sequential) else []
        for a, b in pairs + list(getattr(parent, "conv_bn_pairs", ())):
            conv, bn = parent._modules.get(a), parent._modules.get(b)
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                parent._modules[a] = fuse_conv_bn_eval(conv, bn)
                parent._modules[b] = nn.Identity()
    return module
