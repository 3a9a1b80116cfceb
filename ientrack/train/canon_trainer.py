"""Train a canonicalizer on upright photos (the extractor is not involved: the canonicalizer's losses need
only the images and their rotated copies).

Each step draws ``batch`` images, cuts two augmented views of each (random square crop, small in-plane
jitter, left-right mirror, brightness) with the toolkit's one crop function, takes the |G| rotated copies
of both views and minimises :class:`~ientrack.equivariance.canon_loss.CanonLoss` with Adam. The steerable
:class:`~ientrack.equivariance.canonicalize.EquivariantCanonicalizer` (Kaba et al.'s method) trains on the
prior alone: its pose is equivariant by construction, so one view of each upright image and the prior
toward the identity are the whole objective. Checkpoints
(``weights_only``-loadable, :mod:`ientrack.checkpoint`) hold the model, the Adam state and the step, so
an interrupted run resumes where it stopped.
"""
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ientrack.checkpoint import load_checkpoint, save_checkpoint
from ientrack.crop import crop
from ientrack.device import resolve_device
from ientrack.data.frames import read_frame
from ientrack.data.labelled_images import select_positions
from ientrack.data.pairs import find_images
from ientrack.equivariance.canon_loss import CONTRASTIVE_WEIGHT, CanonLoss
from ientrack.equivariance.canonicalize import Canonicalizer, EquivariantCanonicalizer, PosePredictor, training_state
from ientrack.models.canonicalizers import build_canonicalizer
from ientrack.train.interrupt import save_on_interrupt


def read_image_folder(folder, select: str = "all") -> tuple[list[np.ndarray], list[str]]:
    """RGB uint8 images under ``folder`` (:func:`ientrack.data.pairs.find_images`: sorted by path) and
    their names; ``select`` keeps ``'all'``, the ``'even'`` or the ``'odd'`` positions of the sorted list
    (a fixed, documented split). Errors name the folder or the file."""
    folder = Path(folder)
    paths = select_positions(find_images(folder), select)
    if not paths:
        raise FileNotFoundError(f"{folder} holds no images for select={select!r}")
    return [read_frame(str(p)) for p in paths], [str(p.relative_to(folder)) for p in paths]


def augmented_views(images, indices, size: int, rng: np.random.Generator, min_scale: float = 0.5,
                    max_angle: float = 10.0) -> torch.Tensor:
    """One random view (3, size, size) float 0..255 of each ``images[i]``, ``i`` in ``indices``."""
    views = []
    for i in indices:
        image = images[i]
        h, w = image.shape[:2]
        side = rng.uniform(min_scale, 1.0) * min(h, w)
        free = np.array([w - side, h - side]) / 2
        center = np.array([(w - 1) / 2, (h - 1) / 2]) + rng.uniform(-1, 1, 2) * free
        patch = crop(image, center, side, rng.uniform(-max_angle, max_angle), size)[0].astype(np.float32)
        if rng.random() < 0.5:
            patch = patch[:, ::-1]
        views.append(np.clip(patch * rng.uniform(0.8, 1.2), 0, 255))
    return torch.from_numpy(np.stack(views)).permute(0, 3, 1, 2).contiguous()


@dataclass
class CanonTrainConfig:
    """Settings of a canonicalizer training run (stored in the checkpoint's meta)."""

    canonicalizer: dict = field(default_factory=lambda: {"trunk": "lite0", "group": "C4", "size": 64,
                                                         "search": True, "trunk_stride": 16})
    steps: int = 300
    batch: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    prior: float = 1.0
    consistency: float = 0.0
    contrastive: float = CONTRASTIVE_WEIGHT
    temperature: float = 0.1
    checkpoint_every: int = 50
    seed: int = 0
    bank_views: int = 6


def loss_weights(settings: dict, contrastive: float = CONTRASTIVE_WEIGHT, consistency: float = 0.0) -> dict:
    """The ``contrastive`` and ``consistency`` weights for a canonicalizer of ``settings``: as given, but
    0 for the steerable one (``trunk='e2cnn'``), which trains on the prior alone."""
    if settings.get("trunk") == "e2cnn":
        return {"contrastive": 0.0, "consistency": 0.0}
    return {"contrastive": contrastive, "consistency": consistency}


def _device(model) -> torch.device:
    return next(model.parameters()).device


def copy_features(model: Canonicalizer, views: torch.Tensor) -> torch.Tensor:
    """Trunk features of the |G| copies of each view: (B, |G|, C, h, w), on the model's device."""
    copies = model.copies(views.to(_device(model)))
    return model.trunk(copies.flatten(0, 1)).reshape(*copies.shape[:2], *model.trunk_shape)


@torch.no_grad()
def feature_bank(model: Canonicalizer, images, views: int, rng: np.random.Generator, progress=True):
    """For a frozen trunk: its features of ``views`` augmented views of every image, (views, N, |G|, C, h, w).

    Computed once, so that training runs only the head (the trunk costs nearly all the time)."""
    bank = [torch.cat([copy_features(model, augmented_views(images, range(i, min(i + 32, len(images))),
                                                            model.size, rng))
                       for i in range(0, len(images), 32)])
            for _ in tqdm(range(views), desc="trunk features", disable=not progress)]
    return torch.stack(bank)


def canon_step(model: Canonicalizer, loss_fn: CanonLoss, features1: torch.Tensor, features2: torch.Tensor) -> dict:
    """The loss terms for the copy features (B, |G|, C, h, w) of two views of the same B upright images."""
    outputs = []
    for features in (features1, features2):
        z = model.project(features.flatten(0, 1)).reshape(*features.shape[:2], -1)
        outputs.append((model.copy_logits(z), z))
    (logits1, z1), (logits2, z2) = outputs
    return loss_fn(logits1, logits2, z1, z2)


def prior_step(model: EquivariantCanonicalizer, views: torch.Tensor) -> dict:
    """The prior toward the identity on one view of each of B upright images (B, 3, size, size).

    The rotated copies would only permute the logits (equivariance by construction), so they add nothing."""
    logits = model.pose_logits(views)
    identity = torch.full((len(logits),), model.group.identity.index, device=logits.device)
    prior = F.cross_entropy(logits, identity)
    return {"prior": prior, "total": prior}


def batch_terms(model: PosePredictor, loss_fn: CanonLoss, images, indices, bank, rng) -> dict:
    """The loss terms of one batch (``images[i]``, ``i`` in ``indices``): fresh views, or for a frozen trunk
    two different cached views from ``bank``; the equivariant canonicalizer takes the prior alone."""
    if isinstance(model, EquivariantCanonicalizer):
        return prior_step(model, augmented_views(images, indices, model.size, rng).to(_device(model)))
    if bank is None:
        features = [copy_features(model, augmented_views(images, indices, model.size, rng)) for _ in "12"]
    else:
        first = rng.integers(len(bank), size=len(indices))
        second = (first + rng.integers(1, len(bank), size=len(indices))) % len(bank)
        features = [bank[torch.as_tensor(v), torch.as_tensor(indices)] for v in (first, second)]
    return canon_step(model, loss_fn, *features)


def _optimizer_tensors(optimizer) -> tuple[dict, dict]:
    state = optimizer.state_dict()
    tensors = {f"optim.{p}.{k}": v for p, s in state["state"].items() for k, v in s.items()}
    return tensors, {"param_groups": state["param_groups"]}


def _restore_optimizer(optimizer, state: dict, meta: dict):
    per_param = {}
    for key, value in state.items():
        if key.startswith("optim."):
            _, p, name = key.split(".", 2)
            per_param.setdefault(int(p), {})[name] = value
    optimizer.load_state_dict({"state": per_param, "param_groups": meta["param_groups"]})


def save_training_checkpoint(path, model, optimizer, step: int, config: CanonTrainConfig, extra=None):
    """Model (``model.*``), Adam state (``optim.*``) and ``meta`` = settings, step and ``extra``."""
    optim_tensors, optim_meta = _optimizer_tensors(optimizer)
    state = {f"model.{k}": v for k, v in training_state(model).items()} | optim_tensors
    meta = {"step": step, "config": asdict(config), "canonicalizer": config.canonicalizer,
            "optimizer": optim_meta, **(extra or {})}
    save_checkpoint(path, state, meta)


def export_weights(path, model: PosePredictor, config: CanonTrainConfig, extra=None):
    """The shippable file: model weights in float16 and the settings :func:`load_canonicalizer` needs."""
    save_checkpoint(path, {f"model.{k}": v for k, v in training_state(model).items()},
                    {"canonicalizer": config.canonicalizer, "steps": config.steps, **(extra or {})}, half=True)


def train_canonicalizer(images, config: CanonTrainConfig, checkpoint=None, resume: bool = True,
                        progress: bool = True, extra_meta=None, device="cpu") -> tuple[PosePredictor, list[float]]:
    """Train on upright RGB uint8 ``images`` on ``device`` (``auto``, ``cpu``, ``cuda``); returns the model
    (eval mode) and the per-step total loss. The feature bank of a frozen trunk lives on the device.

    ``checkpoint``: path written every ``config.checkpoint_every`` steps, at the end and on Ctrl-C (then a
    :class:`~ientrack.train.interrupt.TrainingInterrupted` is raised); with ``resume``
    an existing file there is continued from its step (its settings must match ``config.canonicalizer``).
    """
    torch.manual_seed(config.seed)
    model = build_canonicalizer(**config.canonicalizer).to(resolve_device(device))
    if isinstance(model, EquivariantCanonicalizer) and (config.contrastive or config.consistency):
        raise ValueError("the equivariant (e2cnn) canonicalizer trains on the prior alone: set contrastive "
                         "and consistency to 0")
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(trainable, lr=config.lr, weight_decay=config.weight_decay)
    loss_fn = CanonLoss(model.group, config.prior, config.consistency, config.contrastive, config.temperature)
    start = 0
    if checkpoint and resume and os.path.exists(checkpoint):
        state, meta = load_checkpoint(checkpoint)
        if meta.get("canonicalizer") != config.canonicalizer:
            raise ValueError(f"{checkpoint}: was trained with {meta.get('canonicalizer')}, not "
                             f"{config.canonicalizer}; remove it or pass resume=False")
        model.load_state_dict({k[6:]: v for k, v in state.items() if k.startswith("model.")}, strict=True)
        _restore_optimizer(optimizer, state, meta["optimizer"])  # Adam moves its state to the parameters' device
        start = int(meta["step"])
    rng = np.random.default_rng([config.seed, start])
    frozen = getattr(model, "freeze_trunk", False)
    bank = feature_bank(model.eval(), images, config.bank_views, rng, progress) if frozen else None
    losses = []
    model.train()
    done = start

    def save() -> int:
        save_training_checkpoint(checkpoint, model, optimizer, done, config, extra_meta)
        return done

    with save_on_interrupt(save if checkpoint else None), tqdm(
            desc="canonicalizer", disable=not progress, initial=start, total=config.steps) as bar:
        for step in range(start, config.steps):
            terms = batch_terms(model, loss_fn, images, rng.integers(len(images), size=config.batch), bank, rng)
            optimizer.zero_grad()
            terms["total"].backward()
            optimizer.step()
            losses.append(terms["total"].item())
            bar.set_postfix({k: f"{v.item():.3f}" for k, v in terms.items()}, refresh=False)
            bar.update()
            done = step + 1
            if checkpoint and (done % config.checkpoint_every == 0 or done == config.steps):
                save()
    return model.eval(), losses
