"""Training a Siamese tracker on pairs (SiamFC's recipe), on CPU or GPU, in one process or under torchrun.

SGD (momentum 0.9, weight decay 5e-4) with the learning rate log-spaced from 1e-2 to 1e-5 over the
epochs, the balanced logistic loss, mixed precision on CUDA. ``out_dir/last.pt`` (model, optimizer,
scheduler, grad scaler, epoch, step, RNG) is written atomically every ``save_every`` steps, at each
epoch end and on Ctrl-C (:mod:`ientrack.train.interrupt`), and a new run resumes from it. At the end the
network's weights (``backbone.*``, float16 by default) are exported to the file the tracker config's
``weights`` names.
"""
import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import torch
from torch.nn.parallel import DistributedDataParallel

from ientrack.checkpoint import load_checkpoint, save_checkpoint
from ientrack.data.pairs import TrainingPairs
from ientrack.models.heads import XCorrHead
from ientrack.models.registry import build_backbone
from ientrack.models.siamese import SiameseNet, backbone_state
from ientrack.train.distributed import (all_reduce_mean, available_cpus, barrier, epoch_loader, epoch_bar,
                                        found_by_every_process, print0, process_group, steps_per_epoch, unwrap)
from ientrack.train.ien_tracker_loss import build_ien, ien_train_step
from ientrack.train.interrupt import save_on_interrupt
from ientrack.train.siamese_loss import BalancedLoss
from ientrack.precision import amp_dtype, autocast

LAST = "last.pt"


@dataclass
class TrainSettings:
    """Hyper-parameters (siamfc-pytorch's defaults); a tracker YAML may override them in ``train:``."""

    epochs: int = 50
    batch_size: int = 8
    lr_start: float = 1e-2
    lr_end: float = 1e-5
    momentum: float = 0.9
    weight_decay: float = 5e-4
    r_pos: float = 16.0
    r_neg: float = 0.0
    rotate: bool = False  # turn both crops by a random angle (ientrack.data.pairs.TrainingPairs)
    relative_angle: float = 180.0  # and the search crop by up to this many degrees more
    rotate_fraction: float = 1.0  # the share of pairs turned to a random pose (the rest upright)
    save_every: int = 500
    workers: int = field(default_factory=lambda: min(4, available_cpus()))  # loader processes
    seed: int = 0
    export_half: bool = True
    backbone: Optional[str] = None  # the backbone's training form where it differs (re_siamfc: e2cnn)
    ien: Optional[dict] = None  # the IEN term: {beta, group, layers} (ientrack.train.ien_tracker_loss)

    @classmethod
    def from_config(cls, config: dict, **overrides) -> "TrainSettings":
        """The config's ``train:`` section over the defaults, then the non-``None`` ``overrides``."""
        section = dict(config.get("train") or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ValueError(f"tracker config {config.get('name', '?')}: unknown train settings {unknown}; "
                             f"known: {sorted(known)}")
        section.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**section)

    def lr_gamma(self) -> float:
        """Per-epoch decay so that epoch ``e`` runs at ``logspace(lr_start, lr_end, epochs)[e]``."""
        return (self.lr_end / self.lr_start) ** (1.0 / max(self.epochs - 1, 1))


def build_siamese_net(config: dict) -> SiameseNet:
    """The trainable network of a tracker config: its ``backbone`` and an x-corr head (``out_scale``)."""
    return SiameseNet(build_backbone(config.get("backbone", "alexnet")), XCorrHead(config.get("out_scale", 0.001)))


def response_size(net: SiameseNet, exemplar_size: int, instance_size: int) -> int:
    """Side of the response map of ``net`` for the two crop sizes (one dry forward pass, eval mode)."""
    was_training = net.training
    net.eval()
    with torch.no_grad():
        device = next(net.parameters()).device
        out = net(torch.zeros(1, 3, exemplar_size, exemplar_size, device=device),
                  torch.zeros(1, 3, instance_size, instance_size, device=device))
    net.train(was_training)
    return out.shape[-1]


def load_pretrained_backbone(net: SiameseNet, path) -> None:
    """Initialise ``net.backbone`` from a checkpoint of a backbone (keys as the backbone's, or under
    ``backbone.``, e.g. exported by classification training); extra keys (a classifier) are ignored."""
    state = backbone_state(load_checkpoint(path)[0])
    own = net.backbone.state_dict()
    usable = {k: v for k, v in state.items() if k in own and v.shape == own[k].shape}
    missing = sorted(set(own) - set(usable))
    if missing:
        raise ValueError(f"{path}: does not fit backbone {type(net.backbone).__name__}: "
                         f"{len(missing)} of {len(own)} tensors missing or of another shape (first: {missing[:3]})")
    net.backbone.load_state_dict(usable)


def forward_backward(model, loss_fn, z: torch.Tensor, x: torch.Tensor, scaler,
                     amp: Optional[torch.dtype] = None) -> torch.Tensor:
    """Loss of one batch of uint8 pairs and its (scaled) gradients accumulated into ``model``;
    ``amp``: the autocast type (``None``: full precision)."""
    with autocast(z.device, amp):
        responses = model(z.float(), x.float())
    loss = loss_fn(responses)
    scaler.scale(loss).backward()
    return loss.detach()


def train_step(model, loss_fn, optimizer, scaler, z, x, amp: Optional[torch.dtype] = None) -> torch.Tensor:
    """One SGD step on a batch; returns the batch's loss (before the step)."""
    loss = forward_backward(model, loss_fn, z, x, scaler, amp)
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad(set_to_none=True)
    return loss


# -- resumable training state (tensors in the state dict, plain data in meta) --------------------------
def save_training_state(path, model, optimizer, scheduler, scaler, progress: dict) -> None:
    """Write model, optimizer, scheduler, grad scaler, RNG and ``progress`` (epoch, step...) atomically."""
    tensors = {f"model.{k}": v for k, v in unwrap(model).state_dict().items()}
    opt = optimizer.state_dict()
    for pid, slots in opt["state"].items():
        tensors.update({f"optimizer.{pid}.{k}": v for k, v in slots.items() if isinstance(v, torch.Tensor)})
    tensors["rng.cpu"] = torch.get_rng_state()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        tensors["rng.cuda"] = torch.cuda.get_rng_state()
    meta = {"progress": dict(progress), "optimizer_groups": opt["param_groups"],
            "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict()}
    save_checkpoint(path, tensors, meta)


def load_training_state(path, model, optimizer, scheduler, scaler) -> dict:
    """Restore what :func:`save_training_state` wrote into the given objects; returns ``progress``."""
    tensors, meta = load_checkpoint(path)
    for key in ("progress", "optimizer_groups", "scheduler", "scaler"):
        if key not in meta:
            raise ValueError(f"{path}: not a training state (no {key!r}); was it exported weights?")
    unwrap(model).load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    state = {}
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            _, pid, slot = key.split(".", 2)
            state.setdefault(int(pid), {})[slot] = value
    optimizer.load_state_dict({"state": state, "param_groups": meta["optimizer_groups"]})
    scheduler.load_state_dict(meta["scheduler"])
    if meta["scaler"]:  # empty when saved without float16 loss scaling (CPU, bfloat16): start afresh
        scaler.load_state_dict(meta["scaler"])
    torch.set_rng_state(tensors["rng.cpu"])
    if "rng.cuda" in tensors and torch.cuda.is_available():
        torch.cuda.set_rng_state(tensors["rng.cuda"])
    return meta["progress"]


def export_weights(model, path, half: bool = True, meta: Optional[dict] = None) -> Path:
    """Save the network's state dict (``backbone.*``; float16 when ``half``) for the tracker to load; a
    backbone with an ``export()`` method (trained as e2cnn) is saved in its exported, plain-torch form."""
    net = unwrap(model)
    if hasattr(net.backbone, "export"):
        net = SiameseNet(net.backbone.export(), net.head)
    save_checkpoint(path, net.state_dict(), meta or {}, half=half)
    return Path(path)


# -- the training loop --------------------------------------------------------------------------------
def _epoch_loader(dataset, settings, ctx, epoch: int, skip_batches: int):
    dataset.set_epoch(epoch)
    return epoch_loader(dataset, settings.batch_size, settings.workers, settings.seed, epoch, skip_batches, ctx)


def train_tracker(config, data, out_dir, epochs: Optional[int] = None, batch_size: Optional[int] = None,
                  lr: Optional[tuple] = None, device: str = "auto", resume: bool = True,
                  amp: Optional[bool] = None, workers: Optional[int] = None, max_steps: Optional[int] = None,
                  max_minutes: Optional[float] = None, save_every: Optional[int] = None, export: Optional[str] = None,
                  pretrained: Optional[str] = None, seed: Optional[int] = None,
                  rotate: Optional[bool] = None, progress: bool = True) -> dict:
    """Train the network of tracker ``config`` (a name, a YAML path or a loaded dict) on ``data``.

    ``data``: a :class:`~ientrack.data.pairs.TrainingPairs` or a list of pair sources (see
    :func:`ientrack.data.pairs.pair_sources`). ``lr``: ``(start, end)`` of the log-spaced schedule.
    ``amp``: mixed precision (see :func:`amp_dtype`), by default on CUDA only. ``max_steps`` (a smoke
    run) or ``max_minutes`` (a time budget; a later call resumes) stops early; the export then goes to
    ``out_dir/weights.pt`` unless ``export`` names a file, so that a partial run never replaces a tracker's shipped weights. Under ``torchrun`` every process calls this function.
    Returns ``{"step", "epoch", "loss", "export", "model"}`` (the trained :class:`SiameseNet`; ``export``
    is ``None`` on ranks other than 0).
    """
    from ientrack.trackers.registry import load_config

    config = load_config(config) if isinstance(config, (str, Path)) else dict(config)
    lr_start, lr_end = lr if lr is not None else (None, None)
    settings = TrainSettings.from_config(config, epochs=epochs, batch_size=batch_size, lr_start=lr_start,
                                         lr_end=lr_end, workers=workers, save_every=save_every, seed=seed,
                                         rotate=rotate)
    exemplar, instance = config.get("exemplar_size", 127), config.get("instance_size", 255)
    if not isinstance(data, TrainingPairs):
        data = TrainingPairs(data, exemplar, instance, config.get("context", 0.5), settings.rotate, settings.seed,
                             settings.relative_angle, settings.rotate_fraction)
    with process_group(device) as ctx:
        stop = Stop(max_steps, None if max_minutes is None else time.monotonic() + 60 * max_minutes)
        return _train(config, data, Path(out_dir), settings, ctx, resume, amp, stop, export, pretrained, progress)


def _train(config, dataset, out_dir, settings, ctx, resume, amp, stop, export, pretrained, progress):
    torch.manual_seed(settings.seed)
    net = build_siamese_net(dict(config, backbone=settings.backbone) if settings.backbone else config)
    if pretrained:
        load_pretrained_backbone(net, pretrained)
    net.to(ctx.device)
    loss_fn = BalancedLoss(response_size(net, dataset.exemplar_size, dataset.instance_size),
                           net.backbone.total_stride, settings.r_pos, settings.r_neg).to(ctx.device)
    if ctx.distributed and ctx.device.type == "cuda":
        net = torch.nn.SyncBatchNorm.convert_sync_batchnorm(net)  # batch statistics over all GPUs
    net.train()
    ien = build_ien(net.backbone, settings.ien, dataset.exemplar_size)
    amp = amp_dtype(ctx.device, amp)
    optimizer = torch.optim.SGD(net.parameters(), lr=settings.lr_start, momentum=settings.momentum,
                                weight_decay=settings.weight_decay)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, settings.lr_gamma())
    scaler = torch.amp.GradScaler(ctx.device.type, enabled=amp == torch.float16)
    last = out_dir / LAST
    state = {"epoch": 0, "epoch_step": 0, "step": 0}
    if resume and found_by_every_process(last, ctx):
        state = load_training_state(last, net, optimizer, scheduler, scaler)
        print0(f"resuming from {last}: epoch {state['epoch']}, step {state['step']}")
    model = net
    if ctx.distributed:  # wraps after loading: DDP starts every replica from rank 0's weights
        model = DistributedDataParallel(net, device_ids=[ctx.device.index] if ctx.device.type == "cuda" else None)
    epoch_steps = steps_per_epoch(len(dataset), settings.batch_size, ctx, "training pairs",
                                  "more data (sequences, images, a larger --repeat)")
    loss = math.nan

    def save() -> int:
        if ctx.is_main:
            save_training_state(last, model, optimizer, scheduler, scaler, state)
        return state["step"]

    with save_on_interrupt(save):
        while state["epoch"] < settings.epochs and not stop.reached(state, ctx):
            loader = _epoch_loader(dataset, settings, ctx, state["epoch"], state["epoch_step"])
            with epoch_bar(state, epoch_steps, settings.epochs, stop.max_steps, progress and ctx.is_main) as bar:
                for z, x, *_ in loader:
                    z = z.to(ctx.device, non_blocking=True)
                    x = x.to(ctx.device, non_blocking=True)
                    loss = (train_step(model, loss_fn, optimizer, scaler, z, x, amp) if ien is None else
                            ien_train_step(model, ien, loss_fn, optimizer, scaler, z, x, amp)).item()
                    state["step"] += 1
                    state["epoch_step"] += 1
                    bar.set_postfix(loss=f"{loss:.4f}", lr=f"{scheduler.get_last_lr()[0]:.2e}", refresh=False)
                    bar.update()
                    if stop.reached(state, ctx):
                        break
                    if state["step"] % settings.save_every == 0:
                        save()
            if state["epoch_step"] >= epoch_steps:
                scheduler.step()
                state.update(epoch=state["epoch"] + 1, epoch_step=0)
            save()
    barrier()
    path = None
    if ctx.is_main:
        finished = state["epoch"] >= settings.epochs
        path = export or (config.get("weights") if finished else None) or out_dir / "weights.pt"
        meta = {"tracker": config.get("name", ""), "backbone": config.get("backbone", "alexnet"),
                "epochs": state["epoch"], "steps": state["step"], "finished": finished}
        export_weights(net, path, half=settings.export_half, meta=meta)
        print0(f"exported {'final' if finished else 'partial'} weights to {path} after {state['step']} steps")
    return {"step": state["step"], "epoch": state["epoch"], "loss": loss, "export": path, "model": net}


@dataclass
class Stop:
    """When a run stops before its last epoch: after ``max_steps`` steps or past ``deadline``
    (``time.monotonic()``; every process stops at the same step, the first at which any is late)."""

    max_steps: Optional[int] = None
    deadline: Optional[float] = None

    def reached(self, state: dict, ctx) -> bool:
        if self.max_steps is not None and state["step"] >= self.max_steps:
            return True
        if self.deadline is None:
            return False
        late = torch.tensor([float(time.monotonic() > self.deadline)], device=ctx.device)
        return bool(all_reduce_mean(late) > 0)
