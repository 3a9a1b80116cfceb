"""The ONNX Runtime backend (the ``[onnx]`` extra) computes what torch computes: the EfficientNet features
and the canonicalizer's trunk to float rounding, and the same boxes on real video."""

import numpy as np
import pytest
import torch

from conftest import shared_path
from ientrack import build_tracker
from ientrack.data.frames import read_frame
from ientrack.models import onnx_runtime
from ientrack.models.onnx_runtime import OnnxRuntimeModule, resolve_backend, with_backend

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


def real_frames(count: int):
    """The first ``count`` frames of OTB Couple and its first box (0-based)."""
    folder = shared_path("otb", "Couple")
    gt = np.loadtxt(folder / "groundtruth_rect.txt", delimiter="\t")
    return [read_frame(str(folder / "img" / f"{i:04d}.jpg")) for i in range(1, count + 1)], gt[0] - [1, 1, 0, 0]


@pytest.fixture(scope="module")
def trackers():
    return {b: build_tracker("canon_siamfc", device="cpu", backend=b) for b in ("torch", "onnx")}


def test_the_features_of_real_crops_agree_within_1e_4(trackers):
    frames, box = real_frames(2)
    ref, ort = trackers["torch"], trackers["onnx"]
    assert isinstance(ort.backbone, OnnxRuntimeModule) and not isinstance(ref.backbone, OnnxRuntimeModule)
    ref.init(frames[0], box)
    with torch.inference_mode():
        crops = ref._patches(frames[1], ref.base_x * ref.scales, 0.0, ref.instance_size)  # channels-last
        copies = ref.canonicalizer.copies(ref._patches(frames[1], ref.base_z, 0.0, ref.exemplar_size))
        pairs = [(ref.backbone(crops), ort.backbone(crops)),
                 (ref.backbone(crops.contiguous()), ort.backbone(crops.contiguous())),  # the other layout
                 (ref.canonicalizer.trunk(copies.flatten(0, 1)), ort.canonicalizer.trunk(copies.flatten(0, 1)))]
    for expected, got in pairs:
        assert got.shape == expected.shape
        assert (got - expected).abs().max() <= 1e-4 * max(1.0, float(expected.abs().max()))


def test_the_boxes_on_real_video_are_identical(trackers):
    frames, box = real_frames(24)
    boxes = {b: t.track(frames, box)[0] for b, t in trackers.items()}
    assert np.array_equal(boxes["torch"], boxes["onnx"])


def test_an_adjust_head_is_exported_with_the_trunk_and_gives_the_same_boxes():
    frames, box = real_frames(12)
    trackers = {b: build_tracker("effnet_siamfc", device="cpu", backend=b) for b in ("torch", "onnx")}
    assert trackers["torch"].backbone.adjust is not None  # the trained adjust layer (folded into one conv)
    boxes = {b: t.track(frames, box)[0] for b, t in trackers.items()}
    assert np.array_equal(boxes["torch"], boxes["onnx"])


def test_auto_means_onnx_on_the_cpu_where_installed_and_torch_elsewhere(monkeypatch):
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert resolve_backend("auto", cpu) == "onnx" and resolve_backend("auto", cuda) == "torch"
    with pytest.raises(ValueError, match="runs on the CPU"):
        resolve_backend("onnx", cuda)
    with pytest.raises(ValueError, match="backend must be one of"):
        resolve_backend("tensorrt", cpu)
    monkeypatch.setattr(onnx_runtime, "onnx_runtime_available", lambda: False)
    assert resolve_backend("auto", cpu) == "torch"
    with pytest.raises(ImportError, match=r"\[onnx\]"):
        resolve_backend("onnx", cpu)


def test_a_module_is_exported_once_per_process_and_again_when_its_weights_change():
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU())
    first = onnx_runtime.export_onnx(net, (3, 9, 9))
    assert onnx_runtime.export_onnx(net, (3, 9, 9)) is first
    with torch.no_grad():
        net[0].bias += 1.0
    wrapped = with_backend(net, "onnx", torch.device("cpu"), [(3, 9, 9)])
    x = torch.rand(2, 3, 9, 9) * 255
    assert onnx_runtime.export_onnx(net, (3, 9, 9)) is not first
    torch.testing.assert_close(wrapped(x), net(x), rtol=1e-5, atol=1e-4)
    with pytest.raises(ValueError, match="float32 CPU tensors"):
        wrapped(x.double())
