"""Training a classifier under rotations (Rot-MNIST and friends), one process or torchrun DDP.

Each step: :class:`ientrack.train.cls_actor.ClassifierActor` (rotated images; cross entropy, with the IEN
term on the fields the model declares). Adam + one-cycle cosine schedule, mixed precision on CUDA, in the
one loop of :mod:`ientrack.train.trainer`: ``out_dir/last.pt`` is written every ``save_every`` steps, at
each epoch end and on Ctrl-C; a new run continues from it unless ``resume=False``. At the end rank 0
measures the rotated accuracies (:mod:`ientrack.eval.cls_metrics`; a steerable model is first exported
to plain torch) and writes ``model.pt`` and ``results.json``.
"""
import json
import math
from pathlib import Path
from typing import Optional

import torch

from ientrack.atomic import write_text_atomic
from ientrack.data.cls_datasets import build_cls_dataset
from ientrack.distributed import print0, process_group
from ientrack.equivariance.steerable import SteerableCNN, export_to_torch
from ientrack.eval.cls_metrics import rotated_accuracy
from ientrack.models.cls_fields import count_parameters
from ientrack.models.cls_models import build_cls_model
from ientrack.precision import amp_dtype
from ientrack.train.cls_actor import ClassifierActor, build_ien
from ientrack.train.loader import DatasetEpochs
from ientrack.train.schedules import OneCycle, one_cycle
from ientrack.train.settings import ClsConfig
from ientrack.train.trainer import Run, Stop, export_weights, fit, on_device

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


def _write_json(path: Path, content: dict) -> None:
    write_text_atomic(path, json.dumps(content, indent=2))


def train_classifier(config: ClsConfig, out_dir, device: str = "auto", resume: bool = True,
                     max_steps: Optional[int] = None, amp: Optional[bool] = None, progress: bool = True,
                     export_backbone_to=None) -> Optional[dict]:
    """Train and evaluate ``config``; returns the results (``results.json``) on rank 0, ``None`` elsewhere.

    ``resume``: continue from ``out_dir/last.pt`` when it exists. ``max_steps``: stop early (a smoke
    run; the results say how many steps ran). ``amp``: mixed precision, by default on CUDA only.
    ``export_backbone_to``: also save the backbone's weights there (``alexnet_siamfc``).
    """
    with process_group(device) as ctx:
        return _train(config, Path(out_dir), ctx, resume, max_steps, amp_dtype(ctx.device, amp), progress,
                      export_backbone_to)


def _train(config, out_dir, ctx, resume, max_steps, amp, progress, export_to):
    train_set, test_set = build_data(config)
    net = build_model(config, train_set.num_classes, train_set.in_channels)
    if export_to and not hasattr(net, "backbone"):
        raise ValueError(f"--export-backbone needs a model with a tracking backbone, not {config.model!r}")
    net = on_device(net, ctx)
    ien = build_ien(net, config)
    data = DatasetEpochs(train_set, config.batch_size, config.workers, config.seed, ctx, "training images",
                         "more images (a larger --train-limit)")
    total_steps = config.epochs * data.steps_per_epoch
    actor = ClassifierActor(net, config, ien, total_steps, ctx.device, ctx.rank)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = one_cycle(optimizer, total_steps,
                          OneCycle(config.lr, config.pct_start, config.div_factor, config.final_div_factor))
    network = {"model": config.model, "group": config.group, "field_spec": config.field_spec}
    run = Run(config.epochs, "classifier", network, out_dir / LAST, resume, config.save_every, "step", amp,
              Stop(max_steps), progress)
    state, _ = fit(actor, data, optimizer, ctx, run, scheduler)
    if ien is not None:
        ien.remove()
    if not ctx.is_main:
        return None
    return _finish(config, net, test_set, out_dir, ctx, amp, progress, state, data.steps_per_epoch, export_to)


def _finish(config, net, test_set, out_dir, ctx, amp, progress, state, epoch_steps, export_to) -> dict:
    meta = {"name": config.name, "model": config.model, "steps": state["step"], "epochs": state["epoch"]}
    export_weights(out_dir / WEIGHTS, net, meta)
    eval_net = net
    if isinstance(net, SteerableCNN):
        eval_net = export_to_torch(net)
        export_weights(out_dir / EXPORTED, eval_net, {**meta, "exported": True})
    if export_to:  # the backbone's own keys, for tools/train.py --pretrained
        export_weights(export_to, net.backbone, meta)
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
        "final_loss": state["loss"], "final_equiv_loss": state.get("equiv", math.nan), "world_size": ctx.world_size,
        "device": str(ctx.device), "precision": str(amp or torch.float32).removeprefix("torch."),
        "config": config.to_dict(),
    }
    _write_json(out_dir / RESULTS, results)
    shown = ", ".join(f"{label} {'-' if metrics[key] is None else format(metrics[key], '.4f')}"
                      for label, key in (("upright", "upright"), ("C4", "c4"), ("C8", "c8"), ("random", "random")))
    print0(f"{config.name}: {shown}; results in {out_dir / RESULTS}")
    return results
