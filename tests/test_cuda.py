"""The CUDA paths: crops on the GPU, tracking on the GPU, mixed-precision training steps. Skipped, saying
why, on machines without a CUDA device (CI); run on a GPU machine with ``pytest tests/test_cuda.py``."""
import numpy as np
import pytest
import torch

from ientrack.crop import crop, crop_torch
from ientrack.geometry import box_center
from ientrack.train.siamese_loss import BalancedLoss
from ientrack.precision import amp_dtype
from ientrack.train.tracker_trainer import build_siamese_net
from ientrack.trackers.siamfc import SiamFCTracker
from test_siamfc_tracker import BandPassPixels, translating_sequence
from test_tracker_training import LOOP_CONFIG, photo_batch, sgd, train_step

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")


def test_gpu_crops_equal_the_cpu_warp_to_a_grey_level():
    frames, boxes = translating_sequence(n=1)
    image = frames[0]
    centers, sizes, angles = [[160.0, 120.0]] * 3, [[100.0, 100.0], [120.0, 90.0], [80.0, 80.0]], [0.0, 30.0, -75.0]
    expected = crop(image, centers, sizes, angles, 127).astype(np.float32)
    on_gpu = crop_torch(torch.from_numpy(image).permute(2, 0, 1).float().cuda(), centers, sizes, angles, 127)
    got = on_gpu.permute(0, 2, 3, 1).cpu().numpy()
    assert got.shape == expected.shape
    assert np.abs(got - expected)[:, 2:-2, 2:-2].max() < 1.5  # bilinear either way; borders differ by rounding


def test_the_tracker_follows_a_known_translation_on_the_gpu_as_on_the_cpu():
    frames, boxes = translating_sequence()
    on_gpu = SiamFCTracker(backbone=BandPassPixels(), device="cuda")
    assert on_gpu.torch_crops and on_gpu.device.type == "cuda"
    gpu_boxes, _ = on_gpu.track(frames, boxes[0])
    cpu_boxes, _ = SiamFCTracker(backbone=BandPassPixels(), device="cpu").track(frames, boxes[0])
    assert np.linalg.norm(box_center(gpu_boxes) - box_center(boxes), axis=1).max() < 2.0
    assert np.abs(gpu_boxes - cpu_boxes).max() < 1.0


def test_mixed_precision_steps_lower_the_loss_on_the_gpu():
    torch.manual_seed(0)
    device = torch.device("cuda")
    net = build_siamese_net(LOOP_CONFIG).train().to(device)
    z, x = (t.to(device) for t in photo_batch(2, LOOP_CONFIG["instance_size"]))
    amp = amp_dtype(device)
    assert amp is not None
    scaler = torch.amp.GradScaler("cuda", enabled=amp == torch.float16)
    optimizer, loss_fn = sgd(net), BalancedLoss(9, 8).to(device)
    losses = [train_step(net, loss_fn, optimizer, scaler, z, x, amp) for _ in range(20)]
    assert np.isfinite(losses).all() and losses[-1] < 0.75 * losses[0]


def test_a_steerable_net_exports_onto_its_own_gpu():
    from ientrack.equivariance.steerable import export_to_torch
    from ientrack.models.cls_models import build_cls_model

    net = build_cls_model("steerable_cnn_basic", 10, 1, group="C4").cuda().eval()
    plain = export_to_torch(net)
    x = torch.rand(2, 1, 29, 29, device="cuda")
    with torch.no_grad():
        assert torch.allclose(plain(x), net(x), atol=1e-4)


@pytest.mark.parametrize("trunk", ["small", "e2cnn"])
def test_a_canonicalizer_trains_and_resumes_on_the_gpu(tmp_path, trunk):
    from ientrack.train.canon_trainer import train_canonicalizer
    from ientrack.train.settings import CanonSettings
    from test_canonicalize import sky_photos

    settings = {"trunk": trunk, "group": "C4", "size": 33 if trunk == "e2cnn" else 16}
    settings |= {"width": 8} if trunk == "e2cnn" else {"search": True}
    config = CanonSettings(canonicalizer=settings, steps=20, batch_size=4, lr=1e-2, save_every=10,
                           contrastive=0.0 if trunk == "e2cnn" else 0.1)
    model, losses = train_canonicalizer(sky_photos(4, 0), config, checkpoint=tmp_path / "c.pt", progress=False,
                                        device="cuda")
    assert next(model.parameters()).is_cuda and np.mean(losses[-3:]) < np.mean(losses[:3])
    config.steps = 22
    _, more = train_canonicalizer(sky_photos(4, 0), config, checkpoint=tmp_path / "c.pt", progress=False, device="cuda")
    assert len(more) == 2
