"""Groups C_N / D_N: axioms, the rotation convention, actions on images and regular fields."""
import itertools

import numpy as np
import pytest
import torch

from ientrack.equivariance.groups import (cyclic, dihedral, group_from_name, regular_permutation, rotate,
                                          transform, transform_batch, transform_regular)
from ientrack.equivariance.ien_loss import disk_mask


@pytest.mark.parametrize("group", [cyclic(4), cyclic(8), dihedral(4), dihedral(2)], ids=str)
def test_group_axioms(group):
    assert group.order == group.n * (2 if group.reflections else 1)
    e = group.identity
    for a, b, c in itertools.product(group.elements, repeat=3):
        assert group.compose(group.compose(a, b), c) == group.compose(a, group.compose(b, c))
    for a in group.elements:
        assert group.compose(a, e) == a == group.compose(e, a)
        assert group.compose(a, group.inverse(a)) == e
    assert {group.compose(a, b) for a, b in itertools.product(group.elements, repeat=2)} == set(group.elements)


def test_dihedral_relation_mirror_reverses_rotation():
    group = dihedral(4)
    r, f = group.elements[1], group.elements[4]
    assert (r.angle, f.reflection) == (90.0, True)
    assert group.compose(group.compose(f, r), f) == group.inverse(r)  # f r f = r^-1


def test_group_names():
    assert group_from_name("R8") == cyclic(8) and group_from_name("d4") == dihedral(4)
    assert group_from_name("C4").name == "C4"
    with pytest.raises(ValueError, match="unknown group name"):
        group_from_name("SO2")
    with pytest.raises(ValueError, match="not an element"):
        cyclic(4).compose(dihedral(4).elements[5], cyclic(4).identity)


def test_rot90_is_counter_clockwise_as_displayed():
    # a mark at the top-right corner goes to the top-left corner under a CCW quarter turn
    img = torch.zeros(1, 1, 5, 5)
    img[..., 0, 4] = 1
    out = rotate(img, 90)
    assert out[0, 0, 0, 0] == 1 and out.sum() == 1
    assert torch.equal(out, transform(img, cyclic(4).elements[1]))


def test_interpolated_rotation_agrees_with_rot90_and_turns_the_same_way():
    img = torch.rand(3, 2, 9, 9)
    c8 = cyclic(8)
    quarter, eighth = c8.elements[2], c8.elements[1]  # 90 and 45 degrees
    # a batch holding a 45-degree element goes through grid_sample for every sample, 90 included
    out = transform_batch(img, [quarter, eighth, quarter])
    assert torch.allclose(out[0], torch.rot90(img[0], 1, dims=(-2, -1)), atol=1e-5)
    assert torch.allclose(out[2], torch.rot90(img[2], 1, dims=(-2, -1)), atol=1e-5)
    assert torch.allclose(out[1], rotate(img[1:2], 45.0)[0], atol=1e-6)
    # 45 + 45 by interpolation lands close to the exact quarter turn inside the disk
    mark = torch.zeros(1, 1, 21, 21)
    mark[..., 2:5, 9:12] = 1  # a blob above the centre moves to the left of it (CCW)
    twice = rotate(rotate(mark, 45.0), 45.0)
    assert twice[0, 0, 10, 3] > 0.5 and twice[0, 0, 3, 10] < 0.1


def test_transform_composes_like_the_group():
    group = dihedral(4)
    img = torch.rand(2, 3, 7, 7)
    for a, b in itertools.product(group.elements, repeat=2):
        assert torch.equal(transform(transform(img, b), a), transform(img, group.compose(a, b)))


def test_transform_batch_matches_per_sample_transform():
    group = dihedral(4)
    img = torch.rand(8, 2, 6, 6)
    elements = group.elements
    out = transform_batch(img, elements)
    for i, g in enumerate(elements):
        assert torch.equal(out[i], transform(img[i:i + 1], g)[0])
    with pytest.raises(ValueError, match="square"):
        transform_batch(torch.rand(1, 1, 4, 6), [cyclic(4).elements[1]])


def test_half_precision_maps_turn_as_precisely_as_their_rounding_allows():
    """Autocast hands the IEN loss bfloat16 conv outputs; turned by 45-degree steps they must match the
    float32 turn of the same (rounded) maps up to one more rounding, not a rounded angle's error."""
    yy, xx = torch.meshgrid(torch.arange(29.0), torch.arange(29.0), indexing="ij")
    maps = (torch.sin(xx / 3) * torch.cos(yy / 4))[None, None].repeat(8, 4, 1, 1).bfloat16()
    turned = transform_batch(maps, cyclic(8).elements, "zeros")
    assert turned.dtype == torch.bfloat16
    reference = transform_batch(maps.float(), cyclic(8).elements, "zeros")
    assert (turned.float() - reference).abs().max() <= 2 ** -8  # bfloat16's rounding of values below 1


def test_regular_permutation_matches_e2cnn_layout():
    # e2cnn's regular representation of D4 sends basis vector h to g h with index flip * N + rotation
    group = dihedral(4)
    g = group.elements[5]  # r f
    assert regular_permutation(group, g) == [5, 4, 7, 6, 1, 0, 3, 2]
    assert regular_permutation(cyclic(4), cyclic(4).elements[1]) == [1, 2, 3, 0]


def test_transform_regular_shifts_channels_and_rotates():
    group = cyclic(4)
    fields = torch.arange(8.0).reshape(1, 8, 1, 1).expand(1, 8, 3, 3).clone()
    out = transform_regular(fields, group.elements[1], group)
    assert out[0, :, 0, 0].tolist() == [3, 0, 1, 2, 7, 4, 5, 6]
    with pytest.raises(ValueError, match="regular fields"):
        transform_regular(torch.rand(1, 6, 3, 3), group.elements[1], group)


def test_interpolation_round_trip_error_on_a_real_photo():
    """Rotating by 45 then -45 (bilinear, twice) loses about 3.5% relative L2 inside the disk (docs)."""
    skdata = pytest.importorskip("skimage.data")
    img = torch.from_numpy(np.asarray(skdata.camera(), dtype=np.float32) / 255)[None, None, 128:384, 128:384]
    mask = disk_mask(256, 256)
    errors = []
    for angle in (45.0, 30.0):
        back = rotate(rotate(img, angle), -angle)
        errors.append(float(((back - img) ** 2 * mask).sum().sqrt() / ((img ** 2 * mask).sum().sqrt())))
    assert all(0.005 < e < 0.06 for e in errors), errors
    assert torch.equal(rotate(rotate(img, 90), -90), img)  # exact for quarter turns
