"""Training a box head on a frozen extractor (``tools/train.py --stage box_head``).

The extractor (the tracker's whole backbone with its weights: effnet_lite0_s8's ImageNet trunk, or
ien_siamfc's IEN-tuned one, with an adjust layer where the tracker has one) never changes, so its features of a fixed set of :class:`~ientrack.data.box_pairs.BoxPairs`
are computed once (:mod:`.feature_cache`) and the head (:class:`~ientrack.models.box_head.BoxHead`) learns
on them, many epochs for the price of one pass. The loss is the generalised IoU (Rezatofighi et al. 2019)
between each cell's box and the target's, over the cells within ``radius`` search-crop pixels of the
target's centre (where the tracker reads the box: at the response's peak). Adam with a one-cycle schedule
in the loop of :mod:`.trainer` (resumable ``last.pt``); the export holds the head alone (``box_head.*``,
float16, under 0.2 MB), the tracker config's ``box_head_weights``.
"""
import math
import time
from pathlib import Path
from typing import Optional

import torch

from ientrack.data.box_pairs import BoxPairs
from ientrack.data.mixture import describe, mix
from ientrack.distributed import process_group
from ientrack.models.box_head import BoxHead, cell_positions, decode_boxes
from ientrack.train.feature_cache import cached_features
from ientrack.train.loader import DatasetEpochs
from ientrack.train.schedules import OneCycle, one_cycle
from ientrack.train.settings import BoxHeadSettings
from ientrack.train.trainer import Run, Stop, export_weights, fit

LAST, PARTIAL = "last.pt", "box_head.pt"


def generalized_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """GIoU of corner boxes ``(x1, y1, x2, y2)`` along dimension 1 (broadcast)."""
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    w = (torch.minimum(a[:, 2], b[:, 2]) - torch.maximum(a[:, 0], b[:, 0])).clamp(min=0)
    h = (torch.minimum(a[:, 3], b[:, 3]) - torch.maximum(a[:, 1], b[:, 1])).clamp(min=0)
    inter = w * h
    union = area_a + area_b - inter
    hull = ((torch.maximum(a[:, 2], b[:, 2]) - torch.minimum(a[:, 0], b[:, 0]))
            * (torch.maximum(a[:, 3], b[:, 3]) - torch.minimum(a[:, 1], b[:, 1])))
    iou = inter / union.clamp(min=1e-6)
    return iou - (hull - union) / hull.clamp(min=1e-6)


def cell_weights(boxes: torch.Tensor, positions: torch.Tensor, radius: float) -> torch.Tensor:
    """``B x h x w``: 1 at cells inside the box ``boxes[i]`` and within ``radius`` pixels of its centre."""
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    u, v = positions[0][None], positions[1][None]
    inside = ((u > boxes[:, 0, None, None]) & (u < boxes[:, 2, None, None])
              & (v > boxes[:, 1, None, None]) & (v < boxes[:, 3, None, None]))
    near = (u - cx[:, None, None]) ** 2 + (v - cy[:, None, None]) ** 2 <= radius ** 2
    return (inside & near).float()


class BoxActor:
    """``loss(model, (z, x, target), state)``: 1 - GIoU over the cells near each target's centre (``target``:
    the box, then the template's size, :class:`~ientrack.data.box_pairs.BoxPairs`)."""

    def __init__(self, net: BoxHead, radius: float, center: float, device: torch.device):
        self.net, self.radius, self.center, self.device = net, radius, center, device

    def loss(self, model, batch, state: dict):
        z, x, target = (v.to(self.device).float() for v in batch)
        boxes, template_size = target[:, :4], target[:, 4:]
        delta = model(z, x)
        positions = cell_positions(delta.shape[-1], self.net.stride, self.center).to(delta)
        weights = cell_weights(boxes, positions, self.radius)
        giou = generalized_iou(decode_boxes(delta, positions, template_size), boxes[:, :, None, None])
        count = weights.sum().clamp(min=1.0)
        loss = ((1 - giou) * weights).sum() / count
        return loss, {"giou": float((giou.detach() * weights).sum() / count)}


def train_box_head(sources, settings: BoxHeadSettings, out_dir, extractor: torch.nn.Module, extractor_name: str,
                   exemplar_size: int, instance_size: int, context: float, resume: bool = True,
                   device: str = "auto", export: Optional[str] = None, max_steps: Optional[int] = None,
                   max_minutes: Optional[float] = None, progress: bool = True, extra_meta: Optional[dict] = None) -> dict:
    """Train a :class:`BoxHead` on ``extractor``'s (frozen, its weights loaded) features of ``settings.pairs``
    box pairs from ``sources`` (pair sources, mixed by ``settings.mixture``); the resumable state is
    ``out_dir/last.pt``, the features ``out_dir/features.pt``. The head goes to ``export``, else
    ``out_dir/box_head.pt``. Returns ``{"step", "finished", "export", "model", "giou"}``."""
    torch.manual_seed(settings.seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with process_group(device) as ctx:
        if ctx.distributed:
            raise ValueError("the box head stage trains in one process: run it with python, not torchrun")
        extractor = extractor.to(ctx.device).eval()
        mixed = mix(list(sources), settings.mixture, settings.pairs_per_epoch)
        pairs = BoxPairs(mixed, exemplar_size, instance_size, context, settings.seed, settings.shift,
                         settings.scale_jitter)
        key = {"items": "z, x, box, template size", "pairs": settings.pairs, "seed": settings.seed,
               "sources": describe(mixed), "extractor": extractor_name,
               "sizes": [exemplar_size, instance_size, context], "shift": settings.shift,
               "scale_jitter": settings.scale_jitter}
        items = cached_features(extractor, pairs, settings.pairs, key, out_dir, settings.workers, progress=progress,
                                targets=True, whole=True)
        head = BoxHead(items.tensors[0].shape[1], settings.width, extractor.total_stride).to(ctx.device)
        actor = BoxActor(head, settings.radius, (instance_size - 1) / 2, ctx.device)
        data = DatasetEpochs(items, settings.batch_size, 0, settings.seed, ctx, "box pairs", "more pairs (pairs:)")
        total = settings.epochs * data.steps_per_epoch
        optimizer = torch.optim.Adam(head.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
        scheduler = one_cycle(optimizer, total, OneCycle(settings.lr, 0.1, 10.0, 100.0))
        network = {"head": "box_head", "extractor": extractor_name, "width": settings.width}
        stop = Stop(max_steps, None if max_minutes is None else time.monotonic() + 60 * max_minutes)
        run = Run(settings.epochs, "box_head", network, out_dir / LAST, resume, settings.save_every, "step", None,
                  stop, progress)
        state, _ = fit(actor, data, optimizer, ctx, run, scheduler)
    finished = state["step"] >= total
    path = Path(export or out_dir / PARTIAL)
    meta = {"extractor": extractor_name, "stage": "box_head", "steps": state["step"], "finished": finished,
            "train_seconds": state["train_seconds"], "settings": settings.to_dict(), "width": settings.width,
            **(extra_meta or {})}
    export_weights(path, head, meta, half=True, prefix="box_head.")
    print(f"exported {'final' if finished else 'partial'} box head to {path} after {state['step']} steps "
          f"({state['train_seconds'] / 60:.1f} min of training; giou {state.get('giou', math.nan):.3f})")
    return {"step": state["step"], "finished": finished, "export": path, "model": head.eval(),
            "giou": state.get("giou", math.nan)}
