"""The search maths: bicubic upsampling of the response maps as two small matrix products."""
import pytest
import torch
import torch.nn.functional as F

from ientrack.trackers.search import cosine_window, locate_peak, upsample_bicubic


@pytest.mark.parametrize("shape,factor", [((3, 5, 17, 17), 16), ((1, 1, 9, 13), 4), ((2, 3, 17, 17), 1)])
def test_matrix_upsampling_equals_torch_bicubic(shape, factor):
    maps = torch.randn(shape, generator=torch.Generator().manual_seed(0))
    n, c, h, w = shape
    expected = F.interpolate(maps.reshape(1, n * c, h, w), scale_factor=factor, mode="bicubic",
                             align_corners=False).reshape(n, c, h * factor, w * factor)
    assert torch.allclose(upsample_bicubic(maps, factor), expected, atol=1e-5)


def test_the_cached_matrices_serve_any_dtype_and_autograd_after_a_tracker_built_them():
    maps = torch.randn(2, 1, 11, 11, dtype=torch.float64)
    with torch.inference_mode():  # a tracker's update builds the cached matrices first
        upsample_bicubic(maps.float(), 3)
    maps.requires_grad_(True)
    upsample_bicubic(maps, 3).sum().backward()  # float64 maps, with autograd: one matrix cache for all
    expected = F.interpolate(maps.detach(), scale_factor=3, mode="bicubic", align_corners=False)
    torch.testing.assert_close(upsample_bicubic(maps.detach(), 3), expected, rtol=0, atol=1e-5)  # float32 matrix


def test_the_peak_is_found_at_its_place_in_the_map_and_the_candidate_it_lies_in():
    """A bump 3 cells right and 2 up of the centre, in scale 0 and rotation 1: displacement (3, -2) cells
    times the stride, with the window off."""
    responses = torch.zeros(3, 2, 17, 17)
    responses[0, 1, 8 - 2, 8 + 3] = 1.0
    peak = locate_peak(responses, torch.ones(3), cosine_window(17 * 16), 0.0, 16, 8)
    assert (peak.scale, peak.rotation) == (0, 1)
    assert peak.displacement == pytest.approx([24.0, -16.0], abs=1.0)
