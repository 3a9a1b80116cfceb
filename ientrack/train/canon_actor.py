"""The canonicalizer's actor: random batches of upright photos to the canonicalizer's losses.

The extractor is not involved: the losses need only the images and their rotated copies. Each step draws
``batch_size`` images (from a generator seeded by the seed and the step, so that a resumed run draws the
same batches), cuts two augmented views of each (random square crop, small in-plane jitter, left-right
mirror, brightness) with the toolkit's one crop function, takes the |G| rotated copies of both views and
computes :class:`~ientrack.equivariance.canon_loss.CanonLoss`. A frozen trunk's features of a few views
of every image are cached once (:func:`feature_bank`), so that training runs only the head. The steerable
:class:`~ientrack.equivariance.canonicalize.EquivariantCanonicalizer` (Kaba et al.'s method) trains on
the prior alone: its pose is equivariant by construction, so one view of each upright image and the prior
toward the identity are the whole objective.
"""
import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ientrack.crop import crop
from ientrack.equivariance.canon_loss import CanonLoss
from ientrack.equivariance.canonicalize import Canonicalizer, EquivariantCanonicalizer, PosePredictor


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


def step_rng(seed: int, step: int) -> np.random.Generator:
    """The generator of the batch of ``step`` (and, with ``step=None``, of the feature bank)."""
    return np.random.default_rng([seed, 0] if step is None else [seed, 1, step])


class CanonActor:
    """``loss(model, batch, state)``: the loss terms of a batch of ``batch_size`` of ``images`` drawn from
    the generator of ``state["step"]`` (the batch the data serve is only a place holder), for canonicalizer
    ``net`` (``bank``: a frozen trunk's cached features, or ``None``)."""

    def __init__(self, net: PosePredictor, loss_fn: CanonLoss, images, batch_size: int, seed: int, bank=None):
        self.net, self.loss_fn, self.images, self.bank = net, loss_fn, images, bank
        self.batch_size, self.seed = batch_size, seed
        self.device = _device(net)

    def loss(self, model, batch, state: dict):
        rng = step_rng(self.seed, state["step"])
        indices = rng.integers(len(self.images), size=self.batch_size)
        terms = batch_terms(model, self.loss_fn, self.images, indices, self.bank, rng)
        total = terms.pop("total")
        return total, {name: float(value.detach()) for name, value in terms.items()}
