"""Training a classifier under rotations (Rot-MNIST and friends), one process or torchrun DDP.

Each step: rotate every image of the batch by a uniform random angle (on the device, seeded by the
step, so a resumed run sees the same data), then either :func:`ientrack.equivariance.ien_step` (the
model has ``ien_specs``: task loss on ``cat([x, g x])`` + ``beta`` x the IEN loss) or plain cross
entropy. Adam + one-cycle cosine schedule, mixed precision on CUDA. ``out_dir/last.pt`` (model,
optimiser, schedule, scaler, RNG, progress) is written atomically every ``save_every`` steps, at each
epoch end and on Ctrl-C (:mod:`ientrack.train.interrupt`); a new run continues from it unless
``resume=False``. At the end rank 0 measures the rotated accuracies
(:mod:`ientrack.eval.cls_metrics`; a steerable model is first exported to plain torch) and writes
``model.pt`` and ``results.json``.
"""
import json
import math
import time
from pathlib import Path
from typing import Optional

import torch
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

from ientrack.checkpoint import save_checkpoint
from ientrack.data.cls_datasets import build_cls_dataset
from ientrack.data.cls_transforms import random_rotate
from ientrack.atomic import write_text_atomic
from ientrack.equivariance import IENLoss, group_from_name, ien_step
from ientrack.equivariance.steerable import SteerableCNN, export_to_torch
from ientrack.eval.cls_metrics import rotated_accuracy
from ientrack.models.cls_fields import count_parameters
from ientrack.models.cls_models import build_cls_model
from ientrack.train.cls_config import ClsConfig
from ientrack.train.distributed import (barrier, epoch_bar, epoch_loader, found_by_every_process, print0,
                                        process_group, steps_per_epoch, unwrap)
from ientrack.train.interrupt import save_on_interrupt
from ientrack.train.schedules import OneCycle, one_cycle
from ientrack.precision import amp_dtype, autocast
from ientrack.train.tracker_trainer import load_training_state, save_training_state

LAST, WEIGHTS, EXPORTED, RESULTS = "last.pt", "model.pt", "model_exported.pt", "results.json"


def build_data(config: ClsConfig):
    """``(train_set, test_set)`` of the experiment."""
    common = dict(root=config.data_root, size=config.input_size, classes=config.classes,
                  num_classes=config.num_classes, seed=config.data_seed)
    return (build_cls_dataset(config.dataset, "train", limit=config.train_limit, **common),
            build_cls_dataset(config.dataset, "test", limit=config.test_limit, **common))


def build_model(config: ClsConfig, num_classes: int, in_channels: int) -> torch.nn.Module:
    """The experiment's network (seeded by ``config.seed``)."""
    torch.manual_seed(config.seed)
    return build_cls_model(config.model, num_classes, in_channels, group=config.group,
                           field_spec=config.field_spec, **config.model_kw)


def tapped_specs(model: torch.nn.Module, layers: Optional[list]) -> Optional[dict]:
    """The model's ``ien_specs`` restricted to ``layers`` (``None``: all of them); unknown names are an error."""
    specs = getattr(model, "ien_specs", None)
    if layers is None or not specs:
        return specs
    unknown = [name for name in layers if name not in specs]
    if unknown or not layers:
        raise ValueError(f"ien_layers {layers}: {'unknown ' + str(unknown) if unknown else 'empty'}; "
                         f"{type(model).__name__} has {list(specs)}")
    return {name: specs[name] for name in layers}


def ramped_beta(config: ClsConfig, step: int, total_steps: int) -> float:
    """``config.beta``, reached linearly over the first ``beta_ramp`` share of the steps."""
    ramp = config.beta_ramp * total_steps
    return config.beta * min(1.0, step / ramp) if ramp > 0 else config.beta


def export_backbone(model: torch.nn.Module, path, meta: Optional[dict] = None) -> Path:
    """Save ``model.backbone``'s state dict (keys as the backbone's own) for ``tools/train.py --pretrained``."""
    model = unwrap(model)
    if not hasattr(model, "backbone"):
        raise ValueError(f"{type(model).__name__} has no tracking backbone to export (use --model alexnet_siamfc)")
    save_checkpoint(path, model.backbone.state_dict(), meta or {})
    return Path(path)


def _write_json(path: Path, content: dict) -> None:
    write_text_atomic(path, json.dumps(content, indent=2))


def _step_generator(config: ClsConfig, step: int, rank: int) -> torch.Generator:
    return torch.Generator().manual_seed((config.seed * 1_000_003 + step) * 101 + rank)


def train_classifier(config: ClsConfig, out_dir, device: str = "auto", resume: bool = True,
                     max_steps: Optional[int] = None, amp: Optional[bool] = None, progress: bool = True,
                     export_backbone_to=None) -> Optional[dict]:
    """Train and evaluate ``config``; returns the results (``results.json``) on rank 0, ``None`` elsewhere.

    ``resume``: continue from ``out_dir/last.pt`` when it exists. ``max_steps``: stop early (a smoke
    run; the results say how many steps ran). ``amp``: mixed precision, by default on CUDA only.
    ``export_backbone_to``: also save the backbone's weights there (``alexnet_siamfc``).
    """
    with process_group(device) as ctx:
        return _train(config, Path(out_dir), ctx, resume, max_steps, amp, progress, export_backbone_to)


def _train(config, out_dir, ctx, resume, max_steps, amp, progress, export_to):
    train_set, test_set = build_data(config)
    net = build_model(config, train_set.num_classes, train_set.in_channels)
    if export_to and not hasattr(net, "backbone"):
        raise ValueError(f"--export-backbone needs a model with a tracking backbone, not {config.model!r}")
    net.to(ctx.device)
    model = net
    if ctx.distributed:
        if ctx.device.type == "cuda":
            model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(net)
        model = DistributedDataParallel(model, device_ids=[ctx.device.index] if ctx.device.type == "cuda" else None)
    specs = tapped_specs(unwrap(model), config.ien_layers)
    ien = IENLoss(unwrap(model), specs, group_from_name(config.group), config.beta) if specs else None
    amp = amp_dtype(ctx.device, amp)
    epoch_steps = steps_per_epoch(len(train_set), config.batch_size, ctx, "training images",
                                  "more images (a larger --train-limit)")
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = one_cycle(optimizer, config.epochs * epoch_steps,
                          OneCycle(config.lr, config.pct_start, config.div_factor, config.final_div_factor))
    scaler = torch.amp.GradScaler(ctx.device.type, enabled=amp == torch.float16)
    last = out_dir / LAST
    state = {"epoch": 0, "epoch_step": 0, "step": 0, "train_seconds": 0.0, "loss": math.nan, "equiv": math.nan}
    if resume and found_by_every_process(last, ctx):
        state = load_training_state(last, model, optimizer, scheduler, scaler)
        print0(f"resuming from {last}: epoch {state['epoch']}, step {state['step']}")
    elif last.is_file():
        print0(f"{last} exists but resume is off: training from scratch and overwriting it")
    model.train()

    def save() -> int:
        if ctx.is_main:
            save_training_state(last, model, optimizer, scheduler, scaler, state)
        return state["step"]

    with save_on_interrupt(save):
        while state["epoch"] < config.epochs and not _done(state, max_steps):
            loader = epoch_loader(train_set, config.batch_size, config.workers, config.seed, state["epoch"],
                                  state["epoch_step"], ctx)
            with epoch_bar(state, epoch_steps, config.epochs, max_steps, progress and ctx.is_main) as bar:
                tick = time.perf_counter()
                for x, y in loader:
                    x, y = x.to(ctx.device, non_blocking=True), y.to(ctx.device, non_blocking=True)
                    if config.train_rotation:
                        x = random_rotate(x, _step_generator(config, state["step"], ctx.rank), config.rotation_padding)
                    if ien is not None:
                        ien.beta = ramped_beta(config, state["step"], config.epochs * epoch_steps)
                    loss, equiv = train_step(model, ien, optimizer, scaler, x, y, amp)
                    scheduler.step()
                    now = time.perf_counter()
                    state.update(step=state["step"] + 1, epoch_step=state["epoch_step"] + 1, loss=loss, equiv=equiv,
                                 train_seconds=state["train_seconds"] + now - tick)
                    tick = now
                    bar.set_postfix(loss=f"{loss:.4f}", equiv=f"{equiv:.4f}", lr=f"{scheduler.get_last_lr()[0]:.2e}",
                                    refresh=False)
                    bar.update()
                    if _done(state, max_steps):
                        break
                    if state["step"] % config.save_every == 0:
                        save()
            if state["epoch_step"] >= epoch_steps:
                state.update(epoch=state["epoch"] + 1, epoch_step=0)
            save()
    if ien is not None:
        ien.remove()
    barrier()
    if not ctx.is_main:
        return None
    return _finish(config, net, test_set, out_dir, ctx, amp, progress, state, epoch_steps, export_to)


def train_step(model, ien, optimizer, scaler, x, y, amp: Optional[torch.dtype] = None):
    """One optimiser step on a batch; returns ``(loss, equivariance loss)`` as floats (NaN without IEN);
    ``amp``: the autocast type (``None``: full precision)."""
    with autocast(x.device, amp):
        if ien is not None:
            total, _, equiv = ien_step(model, ien, x, y, F.cross_entropy)
        else:
            total, equiv = F.cross_entropy(model(x), y), torch.tensor(math.nan)
    scaler.scale(total).backward()
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad(set_to_none=True)
    return float(total.detach()), float(equiv.detach())


def _finish(config, net, test_set, out_dir, ctx, amp, progress, state, epoch_steps, export_to) -> dict:
    meta = {"name": config.name, "model": config.model, "steps": state["step"], "epochs": state["epoch"]}
    save_checkpoint(out_dir / WEIGHTS, net.state_dict(), meta)
    eval_net = net
    if isinstance(net, SteerableCNN):
        eval_net = export_to_torch(net)
        save_checkpoint(out_dir / EXPORTED, eval_net.state_dict(), {**meta, "exported": True})
    if export_to:
        export_backbone(net, export_to, meta)
    metrics = rotated_accuracy(eval_net, test_set, config.eval_angles, config.eval_batch_size, ctx.device,
                               amp=amp, progress=progress)
    steps = max(state["step"], 1)
    results = {
        "name": config.name, "model": config.model, "group": config.group, "field_spec": config.field_spec,
        "beta": config.beta, "seed": config.seed, "params": count_parameters(net),
        "channels": list(getattr(net, "channels", [])),
        "upright_acc": metrics["upright"], "c4_acc": metrics["c4"], "c8_acc": metrics["c8"],
        "random_rot_acc": metrics["random"], "per_angle_acc": {str(a): v for a, v in metrics["per_angle"].items()},
        "test_images": metrics["count"], "train_images": epoch_steps * config.batch_size * ctx.world_size,
        "steps": state["step"], "epochs_done": state["epoch"], "finished": state["epoch"] >= config.epochs,
        "train_seconds": state["train_seconds"],
        "seconds_per_epoch": state["train_seconds"] / steps * epoch_steps,
        "final_loss": state["loss"], "final_equiv_loss": state["equiv"], "world_size": ctx.world_size,
        "device": str(ctx.device), "precision": str(amp or torch.float32).removeprefix("torch."),
        "config": config.to_dict(),
    }
    _write_json(out_dir / RESULTS, results)
    shown = ", ".join(f"{label} {'-' if metrics[key] is None else format(metrics[key], '.4f')}"
                      for label, key in (("upright", "upright"), ("C4", "c4"), ("C8", "c8"), ("random", "random")))
    print0(f"{config.name}: {shown}; results in {out_dir / RESULTS}")
    return results


def _done(state: dict, max_steps: Optional[int]) -> bool:
    return max_steps is not None and state["step"] >= max_steps
