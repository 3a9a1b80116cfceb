"""SiamFC (Bertinetto et al. 2016) with a template bank of rotations (one, upright, by default).

At ``init`` the target's exemplar crop is taken at every angle of the bank and embedded once
(``R x C x h x w``). Each frame, the ``S`` scale crops of the search region go through the backbone in
ONE batched pass and are correlated with the bank entries within ``angle_window`` of the current angle;
the best (scale, rotation, position) with the scale penalty and the cosine window gives the new state
(centre, size, angle). With ``scale_search: templates`` the scales move to the template side: the bank is
embedded at every scale at ``init`` (``S R x C x h x w``, scale-major) and each frame embeds one search
crop, at the current size, correlated with the ``S`` scaled copies of each candidate entry. Images enter the backbone as float RGB in 0..255, as SiamFC trains them.

A result's score is the peak over the first frame's (the upright template against the search crop of its
own frame, at the target): about 1 while the match holds, lower as it weakens, on any backbone, trained
head or not. Below ``hold_below`` the centre, size and angle stay where they were: an occluded target is
waited for, not followed to whatever the search finds in its place.

With ``box_head_weights`` (:mod:`ientrack.models.box_head`) the box is then regressed: the head reads the
upright template against the search features at the response cell of the peak (a tracker that follows an
angle crops the search region again, at the new centre, turned so the target stands upright), and the size,
width and height apart, moves ``box_lr`` of the way to the head's, the centre ``box_center_lr`` of the way.
"""
import os
import warnings
from typing import Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn

from ientrack.checkpoint import load_checkpoint
from ientrack.crop import crop, crop_torch, mean_color
from ientrack.device import resolve_device
from ientrack.equivariance.exactness import exactness_report
from ientrack.geometry import box_center, exemplar_side, polygon_to_box, rotated_rect_polygon, wrap_angle
from ientrack.models.box_head import cell_positions, decode_boxes, load_box_head
from ientrack.models.heads import XCorrHead
from ientrack.models.onnx_runtime import with_backend
from ientrack.models.registry import build_backbone
from ientrack.models.siamese import backbone_state, fuse_conv_bn
from ientrack.trackers.base import Tracker, TrackResult, check_init_box
from ientrack.trackers.search import cosine_window, locate_peak, scale_factors, scale_penalties, upsample_bicubic
from ientrack.trackers.settings import SearchSettings, setting_names

TRAIN_COMMAND = "python tools/train.py --tracker siamfc"


def load_backbone_weights(backbone: nn.Module, path: str, train_command: str = TRAIN_COMMAND) -> dict:
    """Load ``path`` (a SiameseNet checkpoint, keys ``backbone.*``, or a bare backbone one) into
    ``backbone``; returns the checkpoint's meta. A missing file names the command that trains it. Keys under
    the backbone's ``frozen`` prefixes (parts whose state comes from elsewhere) may be left out."""
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"tracker weights not found: {path}. Train them with `{train_command}`, "
            "or pass allow_random_weights=True to run the machinery untrained"
        )
    state, meta = load_checkpoint(path)
    try:
        missing, unexpected = backbone.load_state_dict(backbone_state(state), strict=False)
    except RuntimeError as error:  # shapes that differ: the weights of another architecture
        raise ValueError(f"{path}: weights do not fit the backbone: {str(error).splitlines()[1].strip()} ...") from None
    missing = [k for k in missing if not k.startswith(tuple(getattr(backbone, "frozen", ())))]
    if missing or unexpected:
        raise ValueError(f"{path}: weights do not fit the backbone (missing {missing[:5]}, unexpected {unexpected[:5]})")
    return meta


def is_exact_input(backbone: nn.Module, size: int) -> bool:
    """Whether ``backbone`` subsamples a ``size`` crop exactly: its own ``exact_input`` rule where it
    declares one, else every strided conv / pool layer checked by ``exactness_report``."""
    if hasattr(backbone, "exact_input"):
        return bool(backbone.exact_input(size))
    return exactness_report(backbone, size, in_channels=3).exact


def warn_if_inexact(backbone: nn.Module, sizes: Sequence[int], where: str) -> None:
    """Warn when a crop size breaks the backbone's exact-subsampling rule (stride grids off the border)."""
    bad = [s for s in sizes if not is_exact_input(backbone, s)]
    if bad:
        warnings.warn(
            f"{where}: crop size(s) {bad} are not subsampled exactly by {type(backbone).__name__} "
            "(some strided layer drops border pixels); shifts will not commute with the network",
            stacklevel=3,
        )


class SiamFCTracker(Tracker):
    """SiamFC with a template bank of rotations; the search settings (``**search``) and their defaults:
    :class:`ientrack.trackers.settings.SearchSettings`, changed for this type by ``defaults``.

    ``backbone``: a registered name (built, then loaded from ``weights``) or an ``nn.Module`` used as
    given (with ``total_stride``; ``weights`` are loaded into it when given). ``train_command``: the
    command a missing weights file's message names. ``backend``: what runs the backbone, ``torch``,
    ``onnx`` (ONNX Runtime on the CPU, the ``[onnx]`` extra) or ``auto`` (onnx where installed and the
    device is the CPU; :mod:`ientrack.models.onnx_runtime`).
    """

    defaults = SearchSettings()

    @classmethod
    def search_setting_names(cls) -> set:
        """The search settings a config of this type may set (the fields of ``defaults``)."""
        return set(setting_names())

    def __init__(
        self,
        name: str = "siamfc",
        backbone: Union[str, nn.Module] = "alexnet",
        weights: Optional[str] = None,
        allow_random_weights: bool = False,
        device: str = "auto",
        backend: str = "torch",
        train_command: str = TRAIN_COMMAND,
        box_head_weights: Optional[str] = None,
        **search,
    ):
        super().__init__(name=name)
        self.settings = s = self.defaults.changed(name, **search)
        self.device = resolve_device(device)
        self.torch_crops = s.crop_backend == "torch" or (s.crop_backend == "auto" and self.device.type == "cuda")
        self.meta = {}
        net = build_backbone(backbone) if isinstance(backbone, str) else backbone
        if weights and (os.path.isfile(weights) or not allow_random_weights):
            self.meta = load_backbone_weights(net, weights, train_command)
        elif isinstance(backbone, str) and not allow_random_weights:
            raise ValueError(f"{name}: no weights given; train them with `{train_command}` or pass allow_random_weights=True")
        elif isinstance(backbone, str):
            warnings.warn(f"{name}: running with random weights (allow_random_weights=True): it will not track", stacklevel=2)
        warn_if_inexact(net, (s.exemplar_size, s.instance_size), name)
        self.total_stride = net.total_stride
        self.backbone = with_backend(fuse_conv_bn(net).to(self.device, memory_format=torch.channels_last), backend,
                                     self.device, [(3, n, n) for n in (s.exemplar_size, s.instance_size)], channels_last=True)
        self.head = XCorrHead(s.out_scale)
        self.box_head = None
        if box_head_weights:
            command = f"python tools/train.py --tracker {name} --stage box_head"
            self.box_head = load_box_head(box_head_weights, net.total_stride, command).to(self.device)
        self.template_angles = np.arange(s.num_rotations) * 360.0 / s.num_rotations  # the bank, evenly spaced
        self.reports_angle = s.num_rotations > 1  # one upright template: the angle stays 0
        self.exemplar_size, self.instance_size, self.context = s.exemplar_size, s.instance_size, s.context
        self.response_up, self.window_influence = s.response_up, s.window_influence
        self.scales = scale_factors(s.num_scales, s.scale_step)
        self.penalties = torch.as_tensor(scale_penalties(s.num_scales, s.scale_penalty), dtype=torch.float32)
        self.scale_lr, self.angle_window, self.angle_lr = s.scale_lr, s.angle_window, s.angle_lr
        self.rotation_penalty = s.rotation_penalty
        self.box_lr, self.box_center_lr = s.box_lr, s.box_center_lr
        self.hold_below = s.hold_below
        self.rotation_search = s.rotation_search
        self.angle_interpolation = s.angle_interpolation
        self.normalized_rotation_scores = s.normalized_rotation_scores
        self._window = None
        self.scale_search = s.scale_search
        self.search_factors = self.scales if s.scale_search == "crops" else np.ones(1)  # search crops' sides / current
        self._search_buffer = np.empty((len(self.search_factors), s.instance_size, s.instance_size, 3), np.uint8)

    # -- crops and features -------------------------------------------------------------------------
    def _patches(self, image: np.ndarray, sizes, angles, out_size: int, out=None, center=None) -> torch.Tensor:
        """Crops ``N x 3 x out x out`` float, channels-last, on the tracker's device, centred on ``center``
        (default: the tracker's centre)."""
        center = self.center if center is None else np.asarray(center, dtype=np.float64)
        if self.torch_crops:
            frame = torch.from_numpy(np.ascontiguousarray(image)).to(self.device).permute(2, 0, 1).float()
            border = torch.as_tensor(self.border, device=self.device)
            patches = crop_torch(frame, center, sizes, angles, out_size, border)
            return patches.contiguous(memory_format=torch.channels_last)
        patches = crop(image, center, sizes, angles, out_size, self.border, out=out)
        return torch.from_numpy(patches).permute(0, 3, 1, 2).to(self.device, torch.float32)

    @torch.inference_mode()
    def init(self, image: np.ndarray, box) -> None:
        box = check_init_box(box, image.shape, self.name)  # a target not in the image: a ValueError
        self.center = box_center(box)
        self.base_size = box[2:4].copy()
        self.scale, self.angle = 1.0, 0.0
        self.shape = np.ones(2)  # width and height over base_size * scale (geometric mean 1): the box head's aspect
        self.base_z = exemplar_side(self.base_size, self.context)
        self.base_x = self.base_z * self.instance_size / self.exemplar_size
        self.image_size = np.array(image.shape[1::-1], dtype=np.float64)
        self.border = mean_color(image)
        # a bank entry at angle a shows the target turned by a: the crop turns back by -a; with the scales on
        # the template side, entry (k, a) also shows it scales[k] times larger (a crop scales[k] times smaller)
        template_factors = np.ones(1) if self.scale_search == "crops" else 1.0 / self.scales
        sides = np.repeat(self.base_z * template_factors, len(self.template_angles))
        angles = np.tile(-self.template_angles, len(template_factors))
        z = self._patches(image, sides, angles, self.exemplar_size)
        self.bank = self.backbone(z)
        self.bank_norms = self.bank.flatten(1).norm(dim=1).float().cpu()
        upright = self._entries(np.array([0]), (len(self.scales) - 1) // 2 if self.scale_search == "templates" else None)
        self.box_template = self.bank[upright].float()
        self.reference_peak = float(self.bank_responses(image, self.center)[0])  # the score's 1

    @torch.inference_mode()
    def update(self, image: np.ndarray) -> TrackResult:
        x = self._patches(image, self.search_sides(), 0.0, self.instance_size, self._search_buffer)
        features = self.backbone(x)
        candidates = self._candidate_rotations()
        responses = self._responses(features, candidates)
        if self._window is None or self._window.shape[-1] != responses.shape[-1] * self.response_up:
            self._window = cosine_window(responses.shape[-1] * self.response_up)
        if self.rotation_search == "at_peak" and len(candidates) > 1:
            peak = self._peak_then_rotation(responses, candidates)
        else:
            penalties = self.penalties[:, None] * self._rotation_penalties(candidates)[None, :]
            peak = locate_peak(responses, penalties, self._window, self.window_influence, self.response_up, self.total_stride)
        score = max(peak.response, 0.0) / self.reference_peak if self.reference_peak > 0 else 0.0
        if score < self.hold_below:
            return self._result(score)
        crop_index = peak.scale if self.scale_search == "crops" else 0
        search_scale = self.search_sides()[crop_index] / self.instance_size
        self.center = np.clip(self.center + peak.displacement * search_scale, 0, self.image_size - 1)
        new_scale = self.scale * ((1 - self.scale_lr) + self.scale_lr * self.scales[peak.scale])
        self.scale = float(np.clip(new_scale, 4.0 / self.base_size.min(), (self.image_size / self.base_size).min()))
        measured = self.template_angles[candidates[peak.rotation]] + peak.rotation_offset
        self.angle = float(wrap_angle(self.angle + self.angle_lr * wrap_angle(measured - self.angle)))
        if self.box_head is not None:
            self._regress_box(image, features[crop_index:crop_index + 1], peak, search_scale)
        return self._result(score)

    def _regress_box(self, image: np.ndarray, features: torch.Tensor, peak, search_scale: float) -> None:
        """The box head's box at the peak's response cell moves the size and the centre (module docstring).
        ``features``: the search crop's, ``search_scale`` image pixels per crop pixel; a tracker that reports
        an angle crops again at the new centre, turned by it, and reads the middle cell."""
        center = (self.instance_size - 1) / 2
        if self.reports_angle:
            side = self.base_x * self.scale
            features = self.backbone(self._patches(image, side, self.angle, self.instance_size))
            search_scale, displacement = side / self.instance_size, np.zeros(2)
        else:
            displacement = peak.displacement
        delta = self.box_head(self.box_template, features.float()).cpu()
        n = delta.shape[-1]
        cell = np.clip(np.rint((n - 1) / 2 + displacement / self.total_stride).astype(int), 0, n - 1)
        template_size = torch.as_tensor(self.base_size * self.exemplar_size / self.base_z, dtype=torch.float32)
        boxes = decode_boxes(delta, cell_positions(n, self.total_stride, center), template_size[None])
        x1, y1, x2, y2 = boxes[0, :, cell[1], cell[0]].double().numpy()
        offset = (np.array([x1 + x2, y1 + y2]) / 2 - center - displacement) * search_scale  # from the peak
        a = np.deg2rad(self.angle) if self.reports_angle else 0.0
        turn = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])  # the crop's frame to the image's
        self.center = np.clip(self.center + self.box_center_lr * (turn @ offset), 0, self.image_size - 1)
        size = self.base_size * self.scale * self.shape
        size = (1 - self.box_lr) * size + self.box_lr * np.array([x2 - x1, y2 - y1]) * search_scale
        size = np.clip(size, 4.0, self.image_size)
        self.scale = float(np.sqrt(np.prod(size / self.base_size)))
        self.shape = size / (self.base_size * self.scale)

    def search_sides(self) -> np.ndarray:
        """Sides in image pixels of this frame's search crops (one per scale, or one with the scales on the
        template side)."""
        return self.base_x * self.scale * self.search_factors

    def _entries(self, candidates: np.ndarray, scale: Optional[int] = None) -> np.ndarray:
        """Rows of ``self.bank`` of the ``candidates`` (bank indices): with the scales on the template side,
        those of every scale (scale-major), or of ``scale`` alone; else the candidates themselves."""
        if self.scale_search == "crops":
            return candidates
        scales = np.arange(len(self.scales)) if scale is None else np.array([scale])
        return (scales[:, None] * len(self.template_angles) + candidates[None, :]).ravel()

    def _responses(self, features: torch.Tensor, candidates: np.ndarray) -> torch.Tensor:
        """``S x R' x h x w`` responses of the candidates at every scale (float, CPU)."""
        responses = self.head.against_bank(self.bank[self._entries(candidates)], features)
        return responses.reshape(len(self.scales), len(candidates), *responses.shape[-2:]).float().cpu()

    @torch.inference_mode()
    def bank_responses(self, image: np.ndarray, center) -> np.ndarray:
        """Every bank entry's highest response within one response cell of ``center`` (x, y), on the
        middle-scale search crop centred there: which rotation the features prefer at a known position
        (a diagnostic; the tracker's state is unchanged)."""
        x = self._patches(image, self.base_x * self.scale, 0.0, self.instance_size, center=center)
        entries = self._entries(np.arange(len(self.template_angles)), (len(self.scales) - 1) // 2)
        maps = self.head.against_bank(self.bank[entries], self.backbone(x)).float()[0]
        c = maps.shape[-1] // 2
        return maps[:, c - 1:c + 2, c - 1:c + 2].amax(dim=(1, 2)).cpu().numpy()

    def _peak_then_rotation(self, responses: torch.Tensor, candidates: np.ndarray):
        """``rotation_search: at_peak``: the peak of the entry nearest the current angle, then the candidate
        whose upsampled response, times its ``rotation_penalty``, is highest within one response cell of it."""
        nearest = int(np.argmin(np.abs(wrap_angle(self.template_angles[candidates] - self.angle))))
        peak = locate_peak(responses[:, nearest:nearest + 1], self.penalties, self._window,
                           self.window_influence, self.response_up, self.total_stride)
        all_up = upsample_bicubic(responses[peak.scale], self.response_up)
        (iy, ix), r = peak.location, self.response_up
        near = all_up[:, max(iy - r, 0):iy + r + 1, max(ix - r, 0):ix + r + 1]
        scores = near.amax(dim=(1, 2)) * self._rotation_penalties(candidates)
        if self.normalized_rotation_scores:
            scores = scores / self.bank_norms[self._entries(candidates, peak.scale)]
        scores = scores.numpy()
        peak.rotation = int(scores.argmax())
        if self.angle_interpolation:
            peak.rotation_offset = self._vertex_offset(scores, candidates, peak.rotation)
        return peak

    def _vertex_offset(self, scores: np.ndarray, candidates: np.ndarray, best: int) -> float:
        """Degrees from candidate ``best``'s angle to the vertex of the parabola through its score and its
        two bank neighbours' (0 unless both neighbours are candidates and the parabola opens downwards).
        The best score lies above both neighbours', so the vertex lies within half the way to either."""
        n, index = len(self.template_angles), int(candidates[best])
        position = {int(c): i for i, c in enumerate(candidates)}
        left, right = position.get((index - 1) % n), position.get((index + 1) % n)
        if left is None or right is None:
            return 0.0
        angle = self.template_angles[index]
        x_left = float(wrap_angle(self.template_angles[candidates[left]] - angle))
        x_right = float(wrap_angle(self.template_angles[candidates[right]] - angle))
        rise_left, rise_right = scores[left] - scores[best], scores[right] - scores[best]
        curvature = (rise_left / x_left - rise_right / x_right) / (x_left - x_right)
        if curvature >= 0:
            return 0.0
        slope = rise_left / x_left - curvature * x_left
        return float(-slope / (2 * curvature))

    def _candidate_rotations(self) -> np.ndarray:
        """Indices of the bank within ``angle_window`` of the current angle (at least the nearest one)."""
        distance = np.abs(wrap_angle(self.template_angles - self.angle))
        inside = np.flatnonzero(distance <= self.angle_window)
        return inside if len(inside) else np.array([int(np.argmin(distance))])

    def _rotation_penalties(self, candidates: np.ndarray) -> torch.Tensor:
        """``rotation_penalty`` to the power of each candidate's distance from the current angle, in bank
        steps (the entry nearest the current angle: 1)."""
        step = 360.0 / len(self.template_angles)
        steps = np.round(np.abs(wrap_angle(self.template_angles[candidates] - self.angle)) / step)
        return torch.as_tensor(self.rotation_penalty ** steps, dtype=torch.float32)

    def _result(self, score: float) -> TrackResult:
        size = self.base_size * self.scale * self.shape
        polygon = rotated_rect_polygon(self.center, size, self.angle)
        return TrackResult(box=polygon_to_box(polygon), polygon=polygon, angle=self.angle, score=float(score))
