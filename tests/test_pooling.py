"""Channel-group pooling and heterogeneous field specs."""
import pytest
import torch

from ientrack.equivariance.pooling import FieldSpec, GroupMaxPool, hetero_widths


def test_pool_takes_the_max_of_each_field_in_layout_order():
    spec = FieldSpec([(4, 1), (2, 2), (1, 1)])  # channels 0-3 | 4-5 | 6-7 | 8
    assert (spec.channels, spec.fields) == (9, 4)
    values = torch.tensor([3.0, 9, 1, 2, -1, -5, 7, 8, 0.5]).reshape(1, 9, 1, 1)
    assert spec.pool(values).flatten().tolist() == [9, -1, 8, 0.5]
    assert spec(values).shape == (1, 4, 1, 1)


def test_homogeneous_spec_and_group_max_pool_agree():
    spec = FieldSpec.homogeneous(16, order=8)
    assert spec.groups == ((8, 2),)
    feats = torch.randn(2, 16, 5, 5)
    assert torch.equal(spec.pool(feats), GroupMaxPool(8)(feats))
    assert torch.equal(FieldSpec.homogeneous(3, 1).pool(feats[:, :3]), feats[:, :3])


def test_bad_specs_and_inputs_are_named():
    with pytest.raises(ValueError, match="do not split"):
        FieldSpec.homogeneous(10, order=4)
    with pytest.raises(ValueError, match="needs"):
        FieldSpec([])
    with pytest.raises(ValueError, match=r"expects \(B, 8, H, W\)"):
        FieldSpec.homogeneous(8, 4).pool(torch.zeros(1, 6, 2, 2))
    with pytest.raises(ValueError, match="not a multiple"):
        GroupMaxPool(4)(torch.zeros(1, 6, 2, 2))


def test_hetero_widths_cuts_the_channel_budget():
    spec = hetero_widths(64)  # defaults: equal field counts of R8, R4, R2, R1, 30% fewer channels
    assert spec.groups == ((8, 3), (4, 3), (2, 3), (1, 3))
    assert spec.channels == 45 and spec.fields == 12
    assert 1 - spec.channels / 64 == pytest.approx(0.3, abs=0.01)
    half = hetero_widths(128, ratio=(1, 0, 0, 1), reduction=0.5)
    assert half.groups == ((8, 7), (1, 7)) and half.channels == 63
    assert hetero_widths(4).groups == ((8, 1), (4, 1), (2, 1), (1, 1))  # every order keeps a field
    with pytest.raises(ValueError, match="same length"):
        hetero_widths(64, ratio=(1, 1))
    with pytest.raises(ValueError, match="reduction"):
        hetero_widths(64, reduction=1.0)
