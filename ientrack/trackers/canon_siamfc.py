"""SiamFC over a pretrained, non-equivariant extractor behind a learned canonicalizer (``canon_siamfc``).

The canonicalizer (:mod:`ientrack.equivariance.canonicalize`) predicts the pose of an image patch in its
group (C4: multiples of 90 degrees). At ``init`` it gives the template's pose; each
frame it looks at the target's patch at the current position and size, and the difference of the two
poses is the target's rotation since the first frame (a multiple of the group's step). The per-frame cost
is the extractor's pass per scale plus one pass of the canonicalizer on a small patch; the bank of turned
templates is embedded once.

Between frames a target turns a little, so the pose is a belief over the group, not one frame's guess:
each frame's pose probabilities (relative to the template's pose) are blended into it with weight
``pose_ema`` (1: this frame alone), and the canonicalizer's rotation moves towards the belief's most
probable element by at most ``pose_step`` degrees a frame (C4 with 90: a quarter turn; 180: anywhere).

The group's steps are coarse (C4: 90 degrees) and a target drifts in between, so the bank holds
``bank_per_pose`` templates per group step (C4 with 3: every 30 degrees). Each frame the search
correlates the entry at the canonicalizer's rotation and, as every bank tracker does, the entries within
``angle_window`` degrees of the current angle; the response picks among them. The local search follows
the drift; the canonicalizer proposes the turn that the local search cannot reach (a jump, or an angle
lost), and the extractor sees the target within half a bank step of the template's pose.
"""
from dataclasses import replace
from typing import Optional

import numpy as np
import torch

from ientrack.geometry import wrap_angle
from ientrack.models.canonicalizers import load_canonicalizer
from ientrack.models.siamese import fuse_conv_bn
from ientrack.trackers.effnet_siamfc import EffNetSiamFCTracker


class CanonSiamFCTracker(EffNetSiamFCTracker):
    """:class:`EffNetSiamFCTracker` whose rotation comes from a canonicalizer checkpoint
    (``canonicalizer_weights``, written by ``tools/train_canonicalizer.py``); the bank has
    ``bank_per_pose`` templates per element of the canonicalizer's group (so ``num_rotations`` is not a
    setting of this type)."""

    defaults = replace(EffNetSiamFCTracker.defaults, angle_window=0.0)  # 0: the canonicalizer's rotation alone

    @classmethod
    def search_setting_names(cls) -> set:
        return super().search_setting_names() - {"num_rotations"}

    def __init__(self, name: str = "canon_siamfc", canonicalizer_weights: Optional[str] = None,
                 pose_ema: float = 1.0, pose_step: float = 180.0, bank_per_pose: int = 1, **kw):
        if not canonicalizer_weights:
            raise ValueError(f"{name}: canonicalizer_weights is required (train one with tools/train_canonicalizer.py)")
        if not 0 < pose_ema <= 1:
            raise ValueError(f"{name}: pose_ema must lie in (0, 1], got {pose_ema}")
        if bank_per_pose < 1:
            raise ValueError(f"{name}: bank_per_pose must be at least 1, got {bank_per_pose}")
        if "num_rotations" in kw:
            raise ValueError(f"{name}: the bank is bank_per_pose entries per pose of the canonicalizer's group; "
                             "num_rotations is not a setting of siamfc_canonicalized")
        canonicalizer = load_canonicalizer(canonicalizer_weights)
        group_size = canonicalizer.group.n
        super().__init__(name=name, num_rotations=group_size * bank_per_pose, **kw)
        self.canonicalizer = fuse_conv_bn(canonicalizer).to(self.device)
        self.pose_angles = np.arange(group_size) * 360.0 / group_size
        self.bank_per_pose, self.pose_ema, self.pose_step = bank_per_pose, pose_ema, pose_step

    def _pose_probabilities(self, image: np.ndarray) -> np.ndarray:
        """The canonicalizer's probabilities (|G|,) of each pose of the target patch at the current position
        and size; entry ``k``: turned by ``pose_angles[k]`` from upright."""
        patch = self._patches(image, self.base_z * self.scale, 0.0, self.exemplar_size)
        return self.canonicalizer.pose_logits(patch).softmax(dim=1)[0].float().cpu().numpy()

    @torch.inference_mode()
    def init(self, image: np.ndarray, box) -> None:
        super().init(image, box)
        self.template_pose = int(np.argmax(self._pose_probabilities(image)))
        self.belief = np.eye(len(self.pose_angles))[0]  # turned by 0 since the first frame
        self.rotation = 0

    @torch.inference_mode()
    def update(self, image: np.ndarray):
        # entry j: the patch is turned by j elements more than the template was
        turned = np.roll(self._pose_probabilities(image), -self.template_pose)
        self.belief = (1 - self.pose_ema) * self.belief + self.pose_ema * turned
        self.rotation = self._step_towards(int(np.argmax(self.belief)))
        return super().update(image)

    def _step_towards(self, goal: int) -> int:
        """``goal`` if it lies within ``pose_step`` of the current rotation, else the element farthest
        along the shorter way to it that does."""
        current = self.pose_angles[self.rotation]
        turn = wrap_angle(self.pose_angles[goal] - current)
        if abs(turn) <= self.pose_step:
            return goal
        target = current + np.sign(turn) * self.pose_step
        return int(np.argmin(np.abs(wrap_angle(self.pose_angles - target))))

    def _candidate_rotations(self) -> np.ndarray:
        """The bank entry at the canonicalizer's rotation and those within ``angle_window`` of the current
        angle."""
        return np.union1d(super()._candidate_rotations(), [self.rotation * self.bank_per_pose])
