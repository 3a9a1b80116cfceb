"""The one training loop of ientrack: trackers, classifiers and canonicalizers alike.

A task brings a network, an *actor* that turns one batch into a loss (pytracking's ``ltr`` actors:
:mod:`.tracker_actor`, :mod:`.cls_actor`, :mod:`.canon_actor`), its data in epochs (:mod:`.loader`), an
optimizer and a schedule; :func:`fit` runs the steps: mixed precision (autocast; a GradScaler for
float16), DDP under torchrun, a progress bar per epoch, the resumable state written atomically every
``save_every`` steps, at each epoch end and on Ctrl-C (:mod:`.interrupt`), and resume from it.
:func:`export_weights` writes the shippable file of any trained network.

The checkpoint (``weights_only``-loadable, :mod:`ientrack.checkpoint`):

- tensors: ``model.*`` (the network's state dict as in training mode), ``optimizer.<param>.<slot>`` (the
  optimizer's per-parameter state), ``rng.cpu`` (and ``rng.cuda``);
- meta: ``format`` (:data:`FORMAT`), ``task`` (``tracker``, ``classifier``, ``canonicalizer``), ``network``
  (plain data naming the architecture: a resume into another is refused), ``progress`` (``epoch``,
  ``epoch_step``, ``step``, ``train_seconds``, ``loss`` and the actor's terms of the last step),
  ``optimizer_groups``, ``scheduler`` (its state dict, or ``None``) and ``scaler``.

Tracker and classifier checkpoints written before this format (no ``format``) hold the same keys and
resume as they are; a canonicalizer checkpoint of before (``optim.*``, meta ``step``) is read as this
format (:func:`upgrade_canonicalizer_checkpoint`).
"""
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from ientrack.checkpoint import load_checkpoint, save_checkpoint
from ientrack.distributed import all_reduce_mean, barrier, found_by_every_process, print0, unwrap
from ientrack.equivariance.canonicalize import training_state
from ientrack.precision import autocast
from ientrack.train.interrupt import save_on_interrupt

FORMAT = "ientrack-training-1"


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


def on_device(net: torch.nn.Module, ctx) -> torch.nn.Module:
    """``net`` on the process's device; in a multi-GPU run with batch statistics over all GPUs (SyncBatchNorm)."""
    net = net.to(ctx.device)
    if ctx.distributed and ctx.device.type == "cuda":
        net = torch.nn.SyncBatchNorm.convert_sync_batchnorm(net)
    return net


def train_step(actor, model, optimizer, scaler, batch, state: dict, amp: Optional[torch.dtype]) -> dict:
    """One optimizer step on ``batch``: ``actor.loss`` under autocast (``amp``: its type, ``None``: full
    precision), the (scaled) backward pass and the step. Returns ``{"loss": total, **terms}`` as floats."""
    with autocast(actor.device, amp):
        total, terms = actor.loss(model, batch, state)
    scaler.scale(total).backward()
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad(set_to_none=True)
    return {"loss": float(total.detach()), **terms}


def epoch_bar(state: dict, steps_per_epoch: int, epochs: int, max_steps: Optional[int], show: bool) -> tqdm:
    """The progress bar of the epoch ``state`` (``epoch``, ``epoch_step``, ``step``) is in, advanced by
    ``update()`` after each step: its total is the epoch's steps, or those left before ``max_steps``."""
    total = steps_per_epoch
    if max_steps is not None:
        total = min(total, state["epoch_step"] + max(max_steps - state["step"], 0))
    return tqdm(total=total, initial=state["epoch_step"], desc=f"epoch {state['epoch'] + 1}/{epochs}",
                disable=not show, dynamic_ncols=True)


@dataclass
class Run:
    """How :func:`fit` runs: ``epochs``; ``checkpoint``: the resumable state's file (``None``: none, Ctrl-C
    then saves nothing); ``task`` and ``network`` (plain data) go into it, and a checkpoint of another
    ``network`` is not resumed; ``schedule_each``: ``"epoch"`` or ``"step"``, when the scheduler steps."""

    epochs: int
    task: str
    network: dict
    checkpoint: Optional[Path] = None
    resume: bool = True
    save_every: int = 500
    schedule_each: str = "epoch"
    amp: Optional[torch.dtype] = None
    stop: Optional[Stop] = None
    progress: bool = True


def fit(actor, data, optimizer, ctx, run: Run, scheduler=None) -> tuple[dict, list[float]]:
    """Train ``actor.net`` on ``data`` (an epoch source of :mod:`.loader`) in process group ``ctx``.

    Resumes from ``run.checkpoint`` when it exists (unless ``run.resume`` is off), wraps the network in
    DDP when the world has several processes (after loading, so that every replica starts from rank 0's
    weights), and trains until ``run.epochs`` are done or ``run.stop`` says stop. Returns the progress
    state and the loss of each step this call ran.
    """
    net, stop = actor.net, run.stop or Stop()
    scaler = torch.amp.GradScaler(ctx.device.type, enabled=run.amp == torch.float16)
    state = {"epoch": 0, "epoch_step": 0, "step": 0, "train_seconds": 0.0, "loss": math.nan}
    if run.checkpoint is not None and run.resume and found_by_every_process(run.checkpoint, ctx):
        state = load_training_state(run.checkpoint, net, optimizer, scheduler, scaler, run.network)
        print0(f"resuming from {run.checkpoint}: epoch {state['epoch']}, step {state['step']}")
    elif run.checkpoint is not None and run.checkpoint.is_file():
        print0(f"{run.checkpoint} exists but resume is off: training from scratch and overwriting it")
    model = net
    if ctx.distributed:
        model = DistributedDataParallel(net, device_ids=[ctx.device.index] if ctx.device.type == "cuda" else None)
    net.train()
    losses = []

    def save() -> int:
        if ctx.is_main and run.checkpoint is not None:
            save_training_state(run.checkpoint, net, optimizer, scheduler, scaler, state, run.task, run.network)
        return state["step"]

    with save_on_interrupt(save if run.checkpoint is not None else None):
        while state["epoch"] < run.epochs and not stop.reached(state, ctx):
            batches = data.epoch(state["epoch"], state["epoch_step"])
            with epoch_bar(state, data.steps_per_epoch, run.epochs, stop.max_steps, run.progress and ctx.is_main) as bar:
                tick = time.perf_counter()
                for batch in batches:
                    terms = train_step(actor, model, optimizer, scaler, batch, state, run.amp)
                    if scheduler is not None and run.schedule_each == "step":
                        scheduler.step()
                    now = time.perf_counter()
                    state.update(terms, step=state["step"] + 1, epoch_step=state["epoch_step"] + 1,
                                 train_seconds=state["train_seconds"] + now - tick)
                    tick = now
                    losses.append(terms["loss"])
                    bar.set_postfix({**{k: f"{v:.4f}" for k, v in terms.items()},
                                     "lr": f"{optimizer.param_groups[0]['lr']:.2e}"}, refresh=False)
                    bar.update()
                    if stop.reached(state, ctx):
                        break
                    if state["step"] % run.save_every == 0:
                        save()
            if state["epoch_step"] >= data.steps_per_epoch:
                if scheduler is not None and run.schedule_each == "epoch":
                    scheduler.step()
                state.update(epoch=state["epoch"] + 1, epoch_step=0)
            save()
    barrier()
    return state, losses


# -- the checkpoint -------------------------------------------------------------------------------------
def save_training_state(path, net, optimizer, scheduler, scaler, progress: dict, task: str = "",
                        network: Optional[dict] = None) -> None:
    """Write the resumable state (the module docstring's format) atomically."""
    tensors = {f"model.{k}": v for k, v in training_state(unwrap(net)).items()}
    groups = optimizer.state_dict()
    for pid, slots in groups["state"].items():
        tensors.update({f"optimizer.{pid}.{k}": v for k, v in slots.items() if isinstance(v, torch.Tensor)})
    tensors["rng.cpu"] = torch.get_rng_state()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        tensors["rng.cuda"] = torch.cuda.get_rng_state()
    meta = {"format": FORMAT, "task": task, "network": network, "progress": dict(progress),
            "optimizer_groups": groups["param_groups"],
            "scheduler": None if scheduler is None else scheduler.state_dict(), "scaler": scaler.state_dict()}
    save_checkpoint(path, tensors, meta)


def upgrade_canonicalizer_checkpoint(state: dict, meta: dict) -> tuple[dict, dict]:
    """A canonicalizer training checkpoint of the earlier format (``optim.*`` tensors, meta ``step``,
    ``canonicalizer`` and ``optimizer``) in this format; anything else as it is."""
    if "progress" in meta or not {"step", "canonicalizer", "optimizer"} <= set(meta):
        return state, meta
    state = {"optimizer." + k[len("optim."):] if k.startswith("optim.") else k: v for k, v in state.items()}
    step = int(meta["step"])
    meta = {"format": FORMAT, "task": "canonicalizer", "network": meta["canonicalizer"],
            "progress": {"epoch": 0, "epoch_step": step, "step": step, "train_seconds": 0.0, "loss": math.nan},
            "optimizer_groups": meta["optimizer"]["param_groups"], "scheduler": None, "scaler": {}}
    return state, meta


def load_training_state(path, net, optimizer, scheduler, scaler, network: Optional[dict] = None) -> dict:
    """Restore what :func:`save_training_state` wrote into the given objects; returns ``progress``.
    A checkpoint of another ``network`` (where both name one) is refused."""
    tensors, meta = upgrade_canonicalizer_checkpoint(*load_checkpoint(path))
    for key in ("progress", "optimizer_groups", "scheduler", "scaler"):
        if key not in meta:
            raise ValueError(f"{path}: not a training state (no {key!r}); was it exported weights?")
    if network is not None and meta.get("network") not in (None, network):
        raise ValueError(f"{path}: trained a network of {meta['network']}, not {network}; "
                         "remove it or train with --no-resume")
    unwrap(net).load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    slots = {}
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            _, pid, slot = key.split(".", 2)
            slots.setdefault(int(pid), {})[slot] = value
    optimizer.load_state_dict({"state": slots, "param_groups": meta["optimizer_groups"]})
    if scheduler is not None and meta["scheduler"]:
        scheduler.load_state_dict(meta["scheduler"])
    if meta["scaler"]:  # empty when saved without float16 loss scaling (CPU, bfloat16): start afresh
        scaler.load_state_dict(meta["scaler"])
    if "rng.cpu" in tensors:
        torch.set_rng_state(tensors["rng.cpu"])
    if "rng.cuda" in tensors and torch.cuda.is_available():
        torch.cuda.set_rng_state(tensors["rng.cuda"])
    return {"train_seconds": 0.0, "loss": math.nan, **meta["progress"]}  # a checkpoint of before: no timing


def export_weights(path, net: torch.nn.Module, meta: Optional[dict] = None, half: bool = False,
                   prefix: str = "", skip: tuple = ()) -> Path:
    """The shippable file of a trained network: its state dict as in training mode (keys under ``prefix``;
    those starting with one of ``skip`` left out: frozen parts that come from elsewhere), floating tensors
    in float16 when ``half``, and ``meta``. The caller passes the inference form (a steerable network
    exported to plain torch, :func:`ientrack.equivariance.steerable.export_to_torch`)."""
    state = {prefix + k: v for k, v in training_state(unwrap(net)).items() if not k.startswith(skip)}
    save_checkpoint(path, state, meta or {}, half=half)
    return Path(path)
