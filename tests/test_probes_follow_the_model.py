"""Probe tensors and derived models follow the model's device and dtype: float64 stands in for a GPU
here (the same mismatch, "expected scalar type Double but found Float", that a CUDA model meets)."""
import pytest
import torch

from ientrack.equivariance.canonicalize import Canonicalizer, small_cnn_trunk
from ientrack.equivariance.exactness import exactness_report
from ientrack.models.alexnet import AlexNetV1

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # e2cnn's uint8-indexing deprecation


def test_the_exactness_probe_runs_a_float64_model():
    assert exactness_report(AlexNetV1().double(), 127).exact


def test_a_canonicalizer_measures_a_float64_trunk():
    model = Canonicalizer(small_cnn_trunk().double(), size=16).double()
    assert model.pose_logits(torch.rand(2, 3, 16, 16, dtype=torch.float64)).dtype == torch.float64


def test_the_steerable_alexnet_exports_in_its_own_dtype():
    from ientrack.models.steerable_alexnet import SteerableAlexNet

    net = SteerableAlexNet("C4", channels=(8, 8, 8, 8, 8)).double().eval()
    x = torch.rand(1, 3, 127, 127, dtype=torch.float64)
    exported = net.export()(x)
    assert exported.dtype == torch.float64  # e2cnn's own pooling hands back float32, whatever its input
    torch.testing.assert_close(exported.float(), net(x), rtol=1e-4, atol=1e-5)
