"""Fine-tuning a pretrained extractor with the IEN term (``tools/train.py --stage extractor``).

The extractor (``effnet_lite0_s8``: EfficientNet-Lite0's ImageNet trunk to stride 8) learns on still
images: upright views (random squares of photos and frames, :func:`~ientrack.train.canon_actor.augmented_views`)
at an exact size (129: the stride grid tiles it, so quarter turns commute with the trunk). Each step

    L = distill * MSE(f(x), f0(x)) + beta * IEN(f; x, g x)

where ``f0`` is the frozen ImageNet copy (labels are scarce: the features stay ImageNet-like on upright
views) and the IEN term (:mod:`ientrack.equivariance.ien_loss`) compares the block outputs the trunk declares
(:meth:`~ientrack.models.effnet_backbone.EffNetLite0Stride8.fields`) on ``x`` and on ``g x``, one random group
element per view. ``beta = 0`` is the distillation alone (no doubled batch). Batch norms keep ImageNet's
statistics (eval mode; their affine parameters learn). Adam with a one-cycle schedule, in the one loop of
:mod:`ientrack.train.trainer` (resumable ``last.pt``); the export holds the trunk as ``backbone.*`` in
float16, the tracker's ``weights``.
"""
import math
import time
from pathlib import Path
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from ientrack.distributed import process_group
from ientrack.equivariance import IENLoss, group_from_name, ien_step
from ientrack.models.registry import build_backbone
from ientrack.train.canon_actor import augmented_views, step_rng
from ientrack.train.loader import StepEpochs
from ientrack.train.schedules import OneCycle, one_cycle
from ientrack.train.settings import ExtractorSettings
from ientrack.train.trainer import Run, Stop, export_weights, fit

LAST, PARTIAL = "last.pt", "extractor.pt"


class FrozenNorms(nn.Module):
    """``net``'s trunk (full map, no border cut) as a trainable module whose batch norms stay in eval mode."""

    def __init__(self, net: nn.Module):
        super().__init__()
        if not hasattr(net, "trunk") or not callable(getattr(net, "fields", None)):
            raise ValueError(f"--stage extractor fine-tunes a pretrained trunk that declares its fields "
                             f"(effnet_lite0_s8); {type(net).__name__} has none")
        self.net = net.requires_grad_(True)

    def train(self, mode: bool = True):
        super().train(mode)
        for module in self.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.trunk(x)


class ExtractorActor:
    """``loss(model, batch, state)``: the distillation and IEN terms of ``batch_size`` views of ``images``
    drawn from the generator of ``state["step"]`` (the batch the data serve is only a place holder)."""

    def __init__(self, net: FrozenNorms, teacher: nn.Module, ien: Optional[IENLoss], images,
                 config: ExtractorSettings, device):
        self.net, self.teacher, self.ien, self.images, self.config, self.device = net, teacher, ien, images, config, device

    def loss(self, model, batch, state: dict):
        c = self.config
        rng = step_rng(c.seed, state["step"])
        indices = rng.integers(len(self.images), size=c.batch_size)
        x = augmented_views(self.images, indices, c.size, rng, c.min_scale, c.max_angle).to(self.device)
        with torch.no_grad():
            target = self.teacher.trunk(x)
        distill = lambda outputs: F.mse_loss(outputs[:len(x)], target)
        if self.ien is None:
            term = distill(model(x))
            return c.distill * term, {"distill": float(term.detach())}
        generator = torch.Generator().manual_seed(c.seed * 1_000_003 + state["step"])
        total, task, equiv = ien_step(model, self.ien, (x,), lambda out: c.distill * distill(out), generator=generator)
        return total, {"distill": float(task.detach()) / max(c.distill, 1e-12), "equiv": float(equiv.detach())}


def train_extractor(images, config: ExtractorSettings, out_dir, backbone: str = "effnet_lite0_s8",
                    resume: bool = True, device: str = "auto", export: Optional[str] = None,
                    weights: Optional[str] = None, max_steps: Optional[int] = None,
                    max_minutes: Optional[float] = None, progress: bool = True,
                    extra_meta: Optional[dict] = None) -> dict:
    """Fine-tune ``backbone`` on RGB uint8 ``images`` under ``config``; the resumable state is
    ``out_dir/last.pt``. The trunk goes to ``export``, else (a finished run) ``weights``, else
    ``out_dir/extractor.pt``. ``max_steps`` / ``max_minutes`` stop early (a later call resumes).
    Returns ``{"step", "finished", "export", "model", "distill", "equiv"}``."""
    torch.manual_seed(config.seed)
    with process_group(device) as ctx:
        if ctx.distributed:
            raise ValueError("the extractor stage trains in one process: run it with python, not torchrun")
        student = FrozenNorms(build_backbone(backbone)).to(ctx.device)
        if not student.net.exact_input(config.size):
            raise ValueError(f"extractor size {config.size} is not exact for {backbone} (use 8k + 1: 129, 257)")
        teacher = build_backbone(backbone).to(ctx.device).eval().requires_grad_(False)
        ien = IENLoss.declared(student.net, group_from_name(config.group), config.beta) if config.beta else None
        actor = ExtractorActor(student, teacher, ien, images, config, ctx.device)
        optimizer = torch.optim.Adam(student.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        scheduler = one_cycle(optimizer, config.steps, OneCycle(config.lr, 0.1, 10.0, 10.0))
        data = StepEpochs(max(1, len(images) // config.batch_size))  # an epoch: about one pass over the images
        network = {"backbone": backbone, "stage": "extractor", "group": config.group, "size": config.size}
        stop = Stop(min(config.steps, max_steps or config.steps),
                    None if max_minutes is None else time.monotonic() + 60 * max_minutes)
        run = Run(math.ceil(config.steps / data.steps_per_epoch), "extractor", network, Path(out_dir) / LAST, resume,
                  config.save_every, "step", None, stop, progress)
        state, _ = fit(actor, data, optimizer, ctx, run, scheduler)
        if ien is not None:
            ien.remove()
    finished = state["step"] >= config.steps
    path = Path(export or (weights if finished else None) or Path(out_dir) / PARTIAL)
    meta = {"extractor": backbone, "stage": "extractor", "steps": state["step"], "finished": finished,
            "train_seconds": state["train_seconds"], "settings": config.to_dict(), **(extra_meta or {})}
    export_weights(path, student.net, meta, half=True, prefix="backbone.")
    print(f"exported {'final' if finished else 'partial'} extractor weights to {path} after {state['step']} steps "
          f"({state['train_seconds'] / 60:.1f} min)")
    return {"step": state["step"], "finished": finished, "export": path, "model": student.net.eval(),
            "distill": state.get("distill", math.nan), "equiv": state.get("equiv", math.nan)}
