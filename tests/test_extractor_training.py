"""The extractor stage: EfficientNet-Lite0's trunk fine-tuned with the IEN term beside a distillation
from its frozen copy (ientrack/train/extractor_trainer.py), and its weights in the tracker."""
from pathlib import Path

import numpy as np
import pytest
import torch
from test_siamfc_tracker import translating_sequence

from ientrack.checkpoint import load_checkpoint
from ientrack.equivariance import IENLoss, group_from_name, ien_step
from ientrack.equivariance.measure import equivariance_errors
from ientrack.models.registry import build_backbone
from ientrack.trackers.registry import build_tracker
from ientrack.train.extractor_trainer import FrozenNorms, train_extractor
from ientrack.train.settings import ExtractorSettings

CONFIG = Path(__file__).resolve().parents[1] / "ientrack" / "zoo" / "ien_siamfc.yaml"
C4 = group_from_name("C4")


def smooth_images(count=4, size=160, seed=0):
    """Upright RGB uint8 images: random blobs, smooth enough for the trunk to see structure."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    images = []
    for _ in range(count):
        image = np.zeros((size, size, 3))
        for _ in range(6):
            cy, cx, r = rng.uniform(20, size - 20), rng.uniform(20, size - 20), rng.uniform(8, 30)
            image += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))[..., None] * rng.uniform(0, 255, 3)
        images.append(np.clip(image, 0, 255).astype(np.uint8))
    return images


def block_errors(net, x):
    return np.mean([e for _, e in equivariance_errors(net, x, C4, net.fields(C4), list(net.fields(C4)))])


def test_the_ien_term_reduces_the_equivariance_error_on_a_fixed_batch_and_distillation_alone_does_not():
    torch.manual_seed(0)
    x = torch.from_numpy(np.stack(smooth_images(2, 129))).permute(0, 3, 1, 2).float()
    teacher = build_backbone("effnet_lite0_s8")
    with torch.no_grad():
        target = teacher.trunk(x)
    before = block_errors(teacher, x)
    after = {}
    for beta in (1.0, 0.0):
        student = FrozenNorms(build_backbone("effnet_lite0_s8")).train()
        optimizer = torch.optim.Adam(student.parameters(), lr=1e-3)
        with IENLoss.declared(student.net, C4, beta) as ien:
            for _ in range(6):
                total, _, _ = ien_step(student, ien, (x,), lambda out: ((out[:len(x)] - target) ** 2).mean())
                total.backward()
                optimizer.step()
                optimizer.zero_grad()
        after[beta] = block_errors(student.net, x)
    assert after[1.0] < 0.9 * before, (before, after)
    assert after[0.0] == pytest.approx(before, rel=1e-4)  # starts at the teacher: nothing to distil


def test_the_exported_trunk_is_small_and_loads_into_the_tracker(tmp_path):
    config = ExtractorSettings(steps=2, batch_size=2, save_every=1, lr=1e-3)
    result = train_extractor(smooth_images(), config, tmp_path, device="cpu", progress=False)
    path = result["export"]
    assert result["finished"] and path == tmp_path / "extractor.pt"
    assert path.stat().st_size < 1_000_000
    state, meta = load_checkpoint(path)
    assert meta["stage"] == "extractor" and meta["steps"] == 2 and all(k.startswith("backbone.trunk.") for k in state)
    untuned = build_backbone("effnet_lite0_s8").state_dict()
    assert any(not torch.allclose(state["backbone." + k].float(), v, atol=1e-3) for k, v in untuned.items()
               if v.is_floating_point())  # the two steps moved the trunk
    frames, boxes = translating_sequence(n=3, step=(6.0, 4.0))
    tracker = build_tracker(str(CONFIG), device="cpu", crop_backend="cv2", backend="torch", weights=str(path))
    assert tracker.meta["steps"] == 2
    predicted, _ = tracker.track(frames, boxes[0])
    assert predicted.shape == (3, 4)
    shipped = build_tracker(str(CONFIG), device="cpu", backend="torch")
    assert shipped.meta["stage"] == "extractor" and shipped.meta["finished"]


def test_the_stage_resumes_and_refuses_an_inexact_size(tmp_path):
    images = smooth_images()
    first = train_extractor(images, ExtractorSettings(steps=3, batch_size=2), tmp_path, device="cpu",
                            max_steps=2, progress=False)
    assert not first["finished"] and first["step"] == 2
    again = train_extractor(images, ExtractorSettings(steps=3, batch_size=2), tmp_path, device="cpu", progress=False)
    assert again["finished"] and again["step"] == 3
    with pytest.raises(ValueError, match="not exact"):
        train_extractor(images, ExtractorSettings(size=128), tmp_path / "b", device="cpu", progress=False)
