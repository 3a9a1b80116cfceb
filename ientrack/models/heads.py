"""SiamFC's cross-correlation head: template features slide over search features as a convolution."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class XCorrHead(nn.Module):
    """Cross-correlation scaled by ``out_scale`` (0.001 in SiamFC, so responses start near BCE's range)."""

    def __init__(self, out_scale: float = 0.001):
        super().__init__()
        self.out_scale = out_scale

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Pairwise responses ``B x 1 x h x w``: template ``z[i]`` (``B x C x hz x wz``) on search ``x[i]``."""
        b, c, h, w = x.shape
        if z.shape[:2] != (b, c):
            raise ValueError(f"XCorrHead: templates {tuple(z.shape)} do not pair with searches {tuple(x.shape)}")
        out = F.conv2d(x.reshape(1, b * c, h, w), z, groups=b)
        return out.reshape(b, 1, out.shape[-2], out.shape[-1]) * self.out_scale

    def against_bank(self, bank: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Every search against every template: ``S x C x h x w`` with ``R x C x hz x wz`` -> ``S x R x h' x w'``."""
        return F.conv2d(x, bank) * self.out_scale
