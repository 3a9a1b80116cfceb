"""Training a canonicalizer on upright photos (``tools/train_canonicalizer.py``; ``tools/train.py`` for a
canonicalized tracker) in the one loop of :mod:`ientrack.train.trainer`, with
:class:`ientrack.train.canon_actor.CanonActor` and Adam. The settings and their defaults:
:class:`ientrack.train.settings.CanonSettings`. The checkpoint (the trainer's format) is written every
``save_every`` steps, at each pass over the images, at the end and on Ctrl-C, and a rerun resumes from it.
"""
import math
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from ientrack.data.frames import read_frame
from ientrack.data.labelled_images import select_positions
from ientrack.data.pairs import find_images
from ientrack.distributed import process_group
from ientrack.equivariance.canon_loss import CanonLoss
from ientrack.equivariance.canonicalize import EquivariantCanonicalizer, PosePredictor
from ientrack.models.canonicalizers import build_canonicalizer
from ientrack.train.canon_actor import CanonActor, feature_bank, step_rng
from ientrack.train.loader import StepEpochs
from ientrack.train.settings import CanonSettings
from ientrack.train.trainer import Run, Stop, export_weights, fit


def read_image_folder(folder, select: str = "all") -> tuple[list[np.ndarray], list[str]]:
    """RGB uint8 images under ``folder`` (:func:`ientrack.data.pairs.find_images`: sorted by path) and
    their names; ``select`` keeps ``'all'``, the ``'even'`` or the ``'odd'`` positions of the sorted list
    (a fixed, documented split). Errors name the folder or the file."""
    folder = Path(folder)
    paths = select_positions(find_images(folder), select)
    if not paths:
        raise FileNotFoundError(f"{folder} holds no images for select={select!r}")
    return [read_frame(str(p)) for p in paths], [str(p.relative_to(folder)) for p in paths]


def loss_weights(settings: dict, contrastive: float = CanonSettings.contrastive,
                 consistency: float = CanonSettings.consistency) -> dict:
    """The ``contrastive`` and ``consistency`` weights for a canonicalizer of ``settings``: as given, but
    0 for the steerable one (``trunk='e2cnn'``), which trains on the prior alone."""
    if settings.get("trunk") == "e2cnn":
        return {"contrastive": 0.0, "consistency": 0.0}
    return {"contrastive": contrastive, "consistency": consistency}


def train_canonicalizer(images, config: CanonSettings, checkpoint=None, resume: bool = True,
                        progress: bool = True, device: str = "auto", export=None,
                        extra_meta: Optional[dict] = None) -> tuple[PosePredictor, list[float]]:
    """Train on upright RGB uint8 ``images`` on ``device`` (``auto``, ``cpu``, ``cuda``); returns the model
    (eval mode) and the total loss of each step this call ran. A frozen trunk's feature bank lives on the
    device. One process: the canonicalizer does not train under torchrun.

    ``checkpoint``: the resumable state's file (``None``: none; Ctrl-C then saves nothing); with ``resume``
    an existing one is continued from its step (a checkpoint of other ``config.canonicalizer`` settings is
    refused). ``export``: also write the shippable file there (float16 weights ``model.*``; meta: the
    settings :func:`~ientrack.equivariance.canonicalize.load_canonicalizer` needs, the steps and
    ``extra_meta``).
    """
    torch.manual_seed(config.seed)
    with process_group(device) as ctx:
        if ctx.distributed:
            raise ValueError("a canonicalizer trains in one process: run it with python, not torchrun")
        model = build_canonicalizer(**config.canonicalizer).to(ctx.device)
        if isinstance(model, EquivariantCanonicalizer) and (config.contrastive or config.consistency):
            raise ValueError("the equivariant (e2cnn) canonicalizer trains on the prior alone: set contrastive "
                             "and consistency to 0")
        optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=config.lr,
                                     weight_decay=config.weight_decay)
        loss_fn = CanonLoss(model.group, config.prior, config.consistency, config.contrastive, config.temperature)
        bank = None
        if getattr(model, "freeze_trunk", False):  # the trunk's features of a few views of every image, once
            bank = feature_bank(model.eval(), images, config.bank_views, step_rng(config.seed, None), progress)
        actor = CanonActor(model, loss_fn, images, config.batch_size, config.seed, bank)
        data = StepEpochs(max(1, len(images) // config.batch_size))  # an epoch: about one pass over the images
        run = Run(math.ceil(config.steps / data.steps_per_epoch), "canonicalizer", config.canonicalizer,
                  None if checkpoint is None else Path(checkpoint), resume, config.save_every, "epoch", None,
                  Stop(config.steps), progress)
        _, losses = fit(actor, data, optimizer, ctx, run)
    if export is not None:
        export_weights(export, model, {"canonicalizer": config.canonicalizer, "steps": config.steps,
                                       **(extra_meta or {})}, half=True, prefix="model.")
    return model.eval(), losses
