"""The balanced logistic loss of SiamFC (Bertinetto et al. 2016; siamfc-pytorch's defaults).

The target sits at the centre of every search crop, so one label map serves every pair: response cells
within ``r_pos`` pixels of the centre (measured in search-image pixels, i.e. ``r_pos / total_stride``
cells) are positives, cells beyond ``r_neg`` are negatives, and the ring in between (empty when
``r_neg <= r_pos``) is ignored. Positives and negatives each carry half of the weight of a map.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def siamfc_labels(response_size: int, total_stride: int, r_pos: float = 16.0, r_neg: float = 0.0):
    """Labels and weights, each ``1 x 1 x S x S``, of a centred target on an ``S x S`` response map.

    Labels are 1 (positive) within ``r_pos / total_stride`` cells of the centre, else 0; weights are
    ``0.5 / #positives`` on positives and ``0.5 / #negatives`` on negatives (0 on ignored cells between
    ``r_pos`` and ``r_neg``), so they sum to 1.
    """
    if response_size < 2 or total_stride <= 0 or r_pos <= 0:
        raise ValueError(f"siamfc_labels: need response_size >= 2, total_stride > 0, r_pos > 0; "
                         f"got {response_size}, {total_stride}, {r_pos}")
    offsets = torch.arange(response_size, dtype=torch.float64) - (response_size - 1) / 2
    dist = torch.sqrt(offsets[None, :] ** 2 + offsets[:, None] ** 2) * total_stride
    positive = dist <= r_pos
    negative = dist > max(r_neg, r_pos)
    labels = positive.to(torch.float32)
    weights = positive / positive.sum() * 0.5 + negative / negative.sum() * 0.5
    return labels[None, None], weights.to(torch.float32)[None, None]


class BalancedLoss(nn.Module):
    """Weighted binary cross-entropy of raw responses ``N x 1 x S x S`` against the centred label map.

    The loss of one pair is the weighted sum over its map (weights sum to 1); the batch loss is the mean
    over pairs, so gradients averaged across equal-sized DDP shards equal those of the whole batch.
    The label map is computed once, at construction, and follows the module's device.
    """

    def __init__(self, response_size: int = 17, total_stride: int = 8, r_pos: float = 16.0, r_neg: float = 0.0):
        super().__init__()
        labels, weights = siamfc_labels(response_size, total_stride, r_pos, r_neg)
        self.register_buffer("labels", labels, persistent=False)
        self.register_buffer("weights", weights, persistent=False)

    def forward(self, responses: torch.Tensor) -> torch.Tensor:
        if responses.shape[-2:] != self.labels.shape[-2:]:
            raise ValueError(f"BalancedLoss: response maps are {tuple(responses.shape[-2:])}, "
                             f"the label map is {tuple(self.labels.shape[-2:])}")
        responses = responses.float()
        per_cell = F.binary_cross_entropy_with_logits(responses, self.labels.expand_as(responses), reduction="none")
        per_pair = (per_cell * self.weights).flatten(1).sum(dim=1)
        return per_pair.mean()
