"""Learned canonicalization for the cyclic groups C_N (see docs/CANONICALIZATION.md).

A canonicalizer predicts the *pose* ``g`` of an image ``x``: the group element with ``x ~ g u`` for an
upright ``u`` (``g`` a counter-clockwise rotation by ``g.angle`` degrees, the convention of
:mod:`.groups`). :class:`CanonicalizedModel` then feeds ``g^-1 x`` to a pretrained, non-equivariant
extractor. If the pose is equivariant (``pose(h x) = h pose(x)``) the model is exactly invariant for C4.

- :class:`Canonicalizer`: a non-equivariant network on a downsampled copy of the input (64 px by
  default). ``search=True`` (default, the optimisation-based canonicalization of Panigrahi & Mondal 2024)
  scores every rotated copy ``g^-1 x`` and the pose is the best-scoring ``g``: equivariant by
  construction because the copies of ``h x`` are the copies of ``x`` permuted. ``search=False``
  predicts the |G| pose logits in one pass (cheaper, equivariant only as far as training made it).
- :class:`EquivariantCanonicalizer`: an e2cnn steerable network (Kaba et al. 2023) whose last layer is
  one regular field; averaged over space its |G| channels are the pose logits, and a rotation of the
  input permutes them, so the argmax pose is equivariant by construction.
- :class:`PoseEnsemble`: several canonicalizers' pose log-probabilities summed.

All take RGB float images ``B x 3 x H x W`` in 0..255, the backbone convention.
"""
from typing import Optional

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ._e2cnn_compat import import_e2cnn
from .exactness import exactness_report, tensor_options
from .groups import PlanarGroup, group_from_name, transform, transform_batch
from .steerable import steerable_cnn


def _cyclic(group) -> PlanarGroup:
    group = group_from_name(group) if isinstance(group, str) else group
    if group.reflections:
        raise ValueError(f"canonicalization here handles rotation groups C_N only, got {group.name}")
    return group


def downsample(x: torch.Tensor, size: int) -> torch.Tensor:
    """Resize images (B, C, H, W) to ``size x size`` (bilinear, antialiased; commutes with ``rot90``)."""
    if x.shape[-2:] == (size, size):
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)


def _as_batch(patches) -> tuple[torch.Tensor, bool]:
    """A float ``B x 3 x H x W`` tensor from a tensor (3, H, W) / (B, 3, H, W) or a numpy array
    (H, W, 3) / (N, H, W, 3) in RGB 0..255; also whether a single patch was given."""
    is_numpy = isinstance(patches, np.ndarray)
    t = torch.from_numpy(np.ascontiguousarray(patches)).float() if is_numpy else patches.float()
    single = t.dim() == 3
    t = t.unsqueeze(0) if single else t
    if is_numpy and t.dim() == 4:
        t = t.permute(0, 3, 1, 2)
    if t.dim() != 4 or t.shape[1] != 3:
        raise ValueError(f"predict_pose needs RGB patches (H, W, 3) / (N, H, W, 3) as numpy or (3, H, W) / "
                         f"(B, 3, H, W) as torch, got shape {tuple(np.shape(patches))}")
    return t, single


class PosePredictor(nn.Module):
    """What every canonicalizer offers: ``pose_logits(x) -> (B, |G|)``, from which the pose follows."""

    group: PlanarGroup

    def pose_logits(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Index (in ``group.elements``) of the predicted pose of each image, (B,) long."""
        return self.pose_logits(x).argmax(dim=1)

    def canonicalize(self, x: torch.Tensor) -> torch.Tensor:
        """``g^-1 x`` for each image's predicted pose ``g`` (exact ``rot90`` for multiples of 90 degrees)."""
        return self.turn_back(x, self.predict(x))

    def turn_back(self, x: torch.Tensor, poses: torch.Tensor) -> torch.Tensor:
        """``g^-1 x`` for each image's pose ``g`` given as an index into ``group.elements`` (B,)."""
        return transform_batch(x, [self.group.inverse(self.group.elements[i]) for i in poses.tolist()])

    @torch.no_grad()
    def predict_pose(self, patches):
        """Rotation of each patch relative to upright, degrees counter-clockwise in [-180, 180).

        ``patches``: RGB 0..255, numpy (H, W, 3) / (N, H, W, 3) or torch (3, H, W) / (B, 3, H, W). A single
        patch gives a float, a batch a float tensor (B,).
        """
        x, single = _as_batch(patches)
        angles = self.predict(x.to(next(self.parameters()).device)).float().cpu() * (360.0 / self.group.n)
        angles = (angles + 180.0) % 360.0 - 180.0
        return float(angles[0]) if single else angles


def small_cnn_trunk(width: int = 16) -> nn.Module:
    """A small CNN from scratch (stride 16, ``4 * width`` channels) for RGB 0..255 input."""
    layers, c_in = [], 3
    for c_out in (width, 2 * width, 4 * width, 4 * width):
        layers += [nn.Conv2d(c_in, c_out, 3, 2, 1), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
        c_in = c_out
    return nn.Sequential(_Scale(1 / 255.0), *layers)


class _Scale(nn.Module):
    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor


class Canonicalizer(PosePredictor):
    """A non-equivariant canonicalization network on ``size x size`` copies of the input.

    ``trunk``: any module mapping RGB 0..255 images to feature maps (e.g. :func:`small_cnn_trunk`, or a
    pretrained :class:`ientrack.models.efficientnet_lite.LiteTrunk`); ``freeze_trunk`` keeps its weights
    and batch-norm statistics fixed. The head (1x1 conv, flatten, linear) keeps the spatial layout, which
    is what tells up from down. ``embed`` gives the ``embed_dim`` vector used by the contrastive loss.
    """

    def __init__(self, trunk: nn.Module, group="C4", size: int = 64, search: bool = True,
                 embed_dim: int = 64, reduce_channels: int = 16, freeze_trunk: bool = False):
        super().__init__()
        self.group, self.size, self.search = _cyclic(group), size, search
        self.trunk, self.freeze_trunk = trunk, freeze_trunk
        if freeze_trunk:
            trunk.requires_grad_(False)
        with torch.no_grad():
            shape = trunk.eval()(torch.zeros(1, 3, size, size, **tensor_options(trunk))).shape
        self.trunk_shape = tuple(shape[1:])
        self.project = nn.Sequential(nn.Conv2d(shape[1], reduce_channels, 1), nn.ReLU(inplace=True),
                                     nn.Flatten(), nn.Linear(reduce_channels * shape[2] * shape[3], embed_dim),
                                     nn.ReLU(inplace=True))
        self.score = nn.Linear(embed_dim, 1 if search else self.group.order)
        self.train(self.training)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.freeze_trunk:
            self.trunk.eval()
        return self

    def copies(self, x: torch.Tensor) -> torch.Tensor:
        """The downsampled input acted on by every element: (B, |G|, 3, size, size), copy ``k`` = ``g_k x``."""
        small = downsample(x, self.size)
        return torch.stack([transform(small, g) for g in self.group.elements], dim=1)

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """Embeddings (N, embed_dim) of ``size x size`` images (N, 3, size, size)."""
        return self.project(self.trunk(images))

    def copy_logits(self, copy_embeddings: torch.Tensor) -> torch.Tensor:
        """Pose logits of every copy, (B, |G| copies, |G| elements), from their embeddings (B, |G|, D).

        With ``search`` the logit of pose ``k`` for copy ``g x`` is the score of ``g_k^-1 g x``, which is
        copy ``g_k^-1 g`` of ``x``: one score per copy serves all |G| copies.
        """
        scores = self.score(copy_embeddings)
        if not self.search:
            return scores
        elements = self.group.elements
        index = torch.tensor([[self.group.compose(self.group.inverse(k), g).index for k in elements]
                              for g in elements], device=scores.device)
        return scores[..., 0][:, index]

    def pose_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, |G|) over the pose of each image."""
        if not self.search:
            return self.score(self.embed(downsample(x, self.size)))
        copies = self.copies(x)
        z = self.embed(copies.flatten(0, 1)).reshape(*copies.shape[:2], -1)
        return self.copy_logits(z)[:, 0]


class EquivariantCanonicalizer(PosePredictor):
    """An e2cnn steerable CNN ending in one regular field: its spatial mean is the pose logits.

    Rotating the input by ``g`` moves channel ``h`` of a regular field to ``g h``, so the logits shift by
    ``g`` and the argmax pose is equivariant by construction (exactly, for C4 at an exact input size;
    ``size`` is checked with :func:`.exactness.exactness_report`).
    """

    def __init__(self, group="C4", size: int = 65, channels=(16, 32, 32), kernel_sizes=(5, 3, 3),
                 strides=(2, 2, 2)):
        super().__init__()
        self.group, self.size = _cyclic(group), size
        widths = [c * self.group.order // 4 for c in channels]
        body = steerable_cnn(widths, kernel_sizes, strides, [k // 2 for k in kernel_sizes], self.group)
        _, enn = import_e2cnn()
        self.body = body
        self.pose_field = enn.R2Conv(body.blocks.out_type,
                                     enn.FieldType(body.in_type.gspace, [body.in_type.gspace.regular_repr]),
                                     3, padding=1)
        report = exactness_report(body, size)
        if not report.exact:
            raise ValueError(f"EquivariantCanonicalizer: input size {size} is not exact for its strides "
                             f"(first break: {report.first_break}); try 65, 97 or 129")
        # e2cnn's R2Conv is born holding its eval-mode filter buffers; a real train() drops them, so the
        # state dict of a fresh model matches one saved in training mode (see :func:`training_state`)
        self.train()

    def train(self, mode: bool = True):
        # eval() expands e2cnn's filters into buffers; without a graph they can be copied (deepcopy)
        with torch.no_grad():
            return super().train(mode)

    def pose_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, |G|): the spatial mean of the pose field (channel ``k`` is element ``k``)."""
        _, enn = import_e2cnn()
        small = (downsample(x, self.size) - 127.0) / 128.0
        field = self.pose_field(self.body.blocks(enn.GeometricTensor(small, self.body.in_type))).tensor
        return field.mean(dim=(2, 3))


class PoseEnsemble(PosePredictor):
    """Several canonicalizers as one: the sum of their pose log-probabilities (the product of their pose
    distributions). Equivariant when every member is (a rotation of the input shifts every member's
    logits alike); costs the members' passes together."""

    def __init__(self, members):
        super().__init__()
        names = [m.group.name for m in members]
        if len(members) < 2 or len(set(names)) != 1:
            raise ValueError(f"PoseEnsemble needs two or more canonicalizers of one group, got {names}")
        self.members, self.group = nn.ModuleList(members), members[0].group

    def pose_logits(self, x: torch.Tensor) -> torch.Tensor:
        return sum(member.pose_logits(x).log_softmax(dim=1) for member in self.members)


class CanonicalizedModel(nn.Module):
    """``extractor(g^-1 x)`` with ``g`` the canonicalizer's pose of ``x`` (exactly C4-invariant when the
    pose is equivariant).

    ``second_pose_below`` (a classifier as the extractor; None: off): where the classifier's top softmax
    probability on the canonical input is below it, the input in the canonicalizer's second most likely
    pose is classified too, and the more confident of the two answers kept. The classifier checks the
    canonicalizer's choice; the extra pass is paid only for the doubtful images. With an equivariant pose
    the two candidate inputs are the same for every turn of ``x``, so the model stays exactly invariant.
    """

    def __init__(self, canonicalizer: PosePredictor, extractor: nn.Module, second_pose_below: Optional[float] = None):
        super().__init__()
        if second_pose_below is not None and not 0.0 < second_pose_below <= 1.0:
            raise ValueError(f"second_pose_below is a probability threshold in (0, 1], got {second_pose_below}")
        self.canonicalizer, self.extractor = canonicalizer, extractor
        self.second_pose_below = second_pose_below

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.second_pose_below is None:
            return self.extractor(self.canonicalizer.canonicalize(x))
        ranked = self.canonicalizer.pose_logits(x).topk(2, dim=1).indices
        out = self.extractor(self.canonicalizer.turn_back(x, ranked[:, 0]))
        confidence = out.softmax(dim=1).amax(dim=1)
        doubtful = torch.nonzero(confidence < self.second_pose_below).flatten()
        if len(doubtful):
            second = self.extractor(self.canonicalizer.turn_back(x[doubtful], ranked[doubtful, 1]))
            better = second.softmax(dim=1).amax(dim=1) > confidence[doubtful]
            out[doubtful[better]] = second[better]
        return out

    def doubtful(self, x: torch.Tensor) -> torch.Tensor:
        """(B,) bool: the images whose canonical input the classifier answers below ``second_pose_below``
        (none without it)."""
        if self.second_pose_below is None:
            return torch.zeros(len(x), dtype=torch.bool)
        return self.extractor(self.canonicalizer.canonicalize(x)).softmax(dim=1).amax(dim=1) < self.second_pose_below


def training_state(model: nn.Module) -> dict:
    """``model``'s state dict as in training mode (e2cnn layers hold extra buffers in eval mode only), so
    that it loads into a freshly built model whatever mode it was saved in."""
    was_training = model.training
    state = model.train().state_dict()
    model.train(was_training)
    return state
