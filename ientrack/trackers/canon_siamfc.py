"""SiamFC over a pretrained, non-equivariant extractor behind a learned canonicalizer (``canon_siamfc``).

The canonicalizer (:mod:`ientrack.equivariance.canonicalize`) predicts the pose of an image patch in its
group (C4: multiples of 90 degrees). At ``init`` it gives the template's pose; each frame it looks at the
target's patch at the current position and size, and the difference of the two poses is the target's
rotation since the first frame. The template bank holds the template turned by every group element; the
search correlates with the one entry that rotation names, so the extractor always compares the target
in the template's pose, and the per-frame cost is the extractor's pass per scale plus one pass of the
canonicalizer on a small patch.
"""
from typing import Optional

import numpy as np
import torch

from ientrack.equivariance.canonicalize import load_canonicalizer
from ientrack.geometry import wrap_angle
from ientrack.models.siamese import fuse_conv_bn
from ientrack.trackers.pretrained_siamfc import PretrainedSiamFCTracker


class CanonSiamFCTracker(PretrainedSiamFCTracker):
    """:class:`PretrainedSiamFCTracker` whose rotation comes from a canonicalizer checkpoint
    (``canonicalizer_weights``, written by ``tools/train_canonicalizer.py``); the bank has one template
    per element of the canonicalizer's group."""

    def __init__(self, name: str = "canon_siamfc", canonicalizer_weights: Optional[str] = None, **kw):
        if not canonicalizer_weights:
            raise ValueError(f"{name}: canonicalizer_weights is required (train one with tools/train_canonicalizer.py)")
        canonicalizer = load_canonicalizer(canonicalizer_weights)
        super().__init__(name=name, num_rotations=canonicalizer.group.n, angle_window=180.0, **kw)
        self.canonicalizer = fuse_conv_bn(canonicalizer).to(self.device)

    def _pose(self, image: np.ndarray) -> float:
        """The canonicalizer's pose (degrees) of the target patch at the current position and size."""
        patch = self._patches(image, self.base_z * self.scale, 0.0, self.exemplar_size)
        return float(self.canonicalizer.predict_pose(patch))

    @torch.inference_mode()
    def init(self, image: np.ndarray, box) -> None:
        super().init(image, box)
        self.template_pose = self._pose(image)
        self.rotation = 0

    @torch.inference_mode()
    def update(self, image: np.ndarray):
        turned = wrap_angle(self._pose(image) - self.template_pose)
        self.rotation = int(np.argmin(np.abs(wrap_angle(self.template_angles - turned))))
        return super().update(image)

    def _candidate_rotations(self) -> np.ndarray:
        return np.array([self.rotation])
