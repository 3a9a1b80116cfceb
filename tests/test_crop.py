"""The one crop: geometry (scale, rotation sign, corners), borders, and CPU / torch agreement."""
import cv2
import numpy as np
import pytest
import torch
from skimage import data

from ientrack.crop import crop, crop_matrices, crop_torch
from ientrack.geometry import rotated_rect_polygon


@pytest.fixture(scope="module")
def image():
    return data.astronaut()  # 512 x 512 RGB uint8


def _tensor(image):
    return torch.from_numpy(image).permute(2, 0, 1).float()


def test_identity_crop_returns_the_image(image):
    patch = crop(image, (255.5, 255.5), 512, 0.0, 512)[0]
    assert np.array_equal(patch, image)


def test_half_scale_crop_is_a_plain_2x_downsample():
    # out pixel q samples source 2q + 0.5: the mean of each 2x2 block
    img = np.arange(64, dtype=np.float32).reshape(8, 8, 1) * 3
    patch = crop(img, (3.5, 3.5), 8, 0.0, 4)[0, :, :, 0]
    assert np.allclose(patch, img[:, :, 0].reshape(4, 2, 4, 2).mean(axis=(1, 3)))


def test_patch_corners_land_on_the_rotated_rect_polygon():
    center, angle = (40.0, 30.0), 33.0
    m = crop_matrices(center, [[21, 11]], angle, (21, 11))[0]
    corners = np.array([[0, 0, 1], [20, 0, 1], [20, 10, 1], [0, 10, 1]], dtype=np.float64)
    assert np.allclose((corners @ m.T).reshape(-1), rotated_rect_polygon(center, (21, 11), angle))


def test_angle_sign_matches_get_rotation_matrix_2d(image):
    center, theta = (250.3, 180.7), 30.0
    turned = cv2.warpAffine(image, cv2.getRotationMatrix2D(center, theta, 1.0), (512, 512))
    upright = crop(image, center, 100, 0.0, 100)[0].astype(float)
    # the target turned by theta, cropped at theta, is upright again
    assert np.abs(crop(turned, center, 100, theta, 100)[0] - upright).mean() < 2.0
    # cropping the original at -theta shows it turned by theta; the opposite sign does not
    shown_turned = crop(turned, center, 100, 0.0, 100)[0].astype(float)
    assert np.abs(crop(image, center, 100, -theta, 100)[0] - shown_turned).mean() < 2.0
    assert np.abs(crop(image, center, 100, theta, 100)[0] - shown_turned).mean() > 20.0


def test_border_is_the_mean_colour_or_the_given_one(image):
    outside = crop(image, (-500.0, -500.0), 50, 0.0, 8)
    assert np.abs(outside.reshape(-1, 3) - image.reshape(-1, 3).mean(axis=0)).max() <= 0.5
    assert np.all(crop(image, (-500.0, -500.0), 50, 0.0, 8, border=(1, 2, 3)) == [1, 2, 3])


def test_batched_scales_and_angles_match_single_crops(image):
    sizes, angles = [90.0, 100.0, 110.0], [0.0, 15.0, -40.0]
    batch = crop(image, (200, 220), sizes, angles, 63)
    assert batch.shape == (3, 63, 63, 3) and batch.dtype == np.uint8
    for patch, s, a in zip(batch, sizes, angles):
        assert np.array_equal(patch, crop(image, (200, 220), s, a, 63)[0])


@pytest.mark.parametrize("center, size, angle", [((250.3, 180.7), 130.0, 0.0), ((100.0, 400.0), 300.0, 30.0), ((-50.0, 20.0), 300.0, -75.0)])
def test_torch_path_agrees_with_cv2_path(image, center, size, angle):
    cpu = crop(image, center, size, angle, 127).astype(np.float32)
    gpu_path = crop_torch(_tensor(image), center, size, angle, 127).permute(0, 2, 3, 1).numpy()
    diff = np.abs(cpu - gpu_path)
    # cv2 rounds to uint8 and quantises positions to 1/32 pixel: that is all that may differ
    assert diff.mean() < 0.6 and diff.max() < 3.0


def test_non_square_sizes_and_outputs_in_both_paths(image):
    cpu = crop(image, (256, 256), [[200, 100]], 10.0, (64, 32))
    assert cpu.shape == (1, 32, 64, 3)
    gpu_path = crop_torch(_tensor(image), (256, 256), [[200, 100]], 10.0, (64, 32))
    assert np.abs(gpu_path.permute(0, 2, 3, 1).numpy() - cpu).mean() < 0.6


def test_bad_arguments_say_what_is_wrong(image):
    with pytest.raises(ValueError, match="centers has 2 entries, expected 1 or 3"):
        crop(image, [(1, 2), (3, 4)], [10, 20, 30], 0.0, 5)
    with pytest.raises(ValueError, match="sizes must be positive"):
        crop(image, (1, 2), 0.0, 0.0, 5)
    with pytest.raises(ValueError, match="H x W x C"):
        crop(image[:, :, 0], (1, 2), 10, 0.0, 5)
