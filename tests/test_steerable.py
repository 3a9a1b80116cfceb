"""Steerable (e2cnn) networks: equivariance at exact sizes, export to plain torch, regular-field action."""
import pytest
import torch

from ientrack.equivariance.exactness import exactness_report
from ientrack.equivariance.groups import cyclic, dihedral, rotate, transform, transform_regular
from ientrack.equivariance.ien_loss import IENLoss
from ientrack.equivariance.measure import equivariance_errors

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # e2cnn's uint8-indexing deprecation
EXACT, OFF = 33, 34  # (33 - 5) % 2 == 0 and (15 - 3) % 2 == 0; 34 is one pixel off, same 7x7 output


def build(group, num_classes=None):
    from ientrack.equivariance.steerable import steerable_cnn
    torch.manual_seed(0)
    return steerable_cnn(channels=(8, 16), kernel_sizes=(5, 3), strides=(2, 2), group=group,
                         num_classes=num_classes).eval()


@pytest.fixture(scope="module")
def c4_net():
    return build("C4")


@pytest.fixture(scope="module")
def d4_net():
    return build("D4")


def relative_error(net, x, g):
    with torch.no_grad():
        expected = transform(net(x), g)
        return float((net(transform(x, g)) - expected).norm() / expected.norm())


def test_c4_net_is_equivariant_at_the_exact_size_only(c4_net):
    x = torch.randn(2, 3, EXACT, EXACT)
    rotations = cyclic(4).elements[1:]
    assert max(relative_error(c4_net, x, g) for g in rotations) < 1e-5
    off = torch.randn(2, 3, OFF, OFF)
    assert c4_net(off).shape == c4_net(x).shape == (2, 4, 7, 7)
    assert min(relative_error(c4_net, off, g) for g in rotations) > 1e-3
    assert exactness_report(c4_net, EXACT).exact and exactness_report(c4_net, OFF).first_break == "blocks.0"


def test_per_layer_errors_with_group_pooling(c4_net):
    x = torch.randn(2, 3, EXACT, EXACT)
    errors = equivariance_errors(c4_net, x, cyclic(4), specs=c4_net.fields(cyclic(4)))
    assert [name for name, _ in errors] == ["blocks.0", "blocks.3"]
    assert all(e < 1e-5 for _, e in errors)
    unpooled = equivariance_errors(c4_net, x, cyclic(4))  # channels permute: not equal without pooling
    assert all(e > 0.1 for _, e in unpooled)
    named = equivariance_errors(c4_net, x, cyclic(4), specs=c4_net.fields(cyclic(4)), layers=["blocks.5"])
    assert named[0][0] == "blocks.5" and named[0][1] < 1e-5 and len(named) == 1
    with pytest.raises(KeyError, match="nothing"):
        equivariance_errors(c4_net, x, layers=["nothing"])


def test_export_matches_and_leaves_no_e2cnn(c4_net):
    from ientrack.equivariance.steerable import export_to_torch
    plain = export_to_torch(c4_net)
    assert not [m for m in plain.modules() if type(m).__module__.startswith("e2cnn")]
    x = torch.randn(2, 3, OFF, OFF)
    with torch.no_grad():
        assert torch.allclose(plain(x), c4_net(x), atol=1e-5)
    rows = exactness_report(plain, OFF).layers
    assert [(r.name, r.remainder) for r in rows] == [(r.name, r.remainder) for r in exactness_report(c4_net, OFF).layers]
    with pytest.raises(TypeError, match="SteerableCNN"):
        export_to_torch(torch.nn.Conv2d(1, 1, 3))


def test_ien_loss_vanishes_on_the_exported_net(c4_net):
    from ientrack.equivariance.steerable import export_to_torch
    plain = export_to_torch(c4_net)
    with IENLoss.declared(plain, cyclic(4)) as ien:
        batch, elements = ien.augment(torch.randn(4, 3, EXACT, EXACT))
        plain(batch)
        assert ien.loss(elements) < 1e-10


@pytest.mark.parametrize("name", ["c4_net", "d4_net"])
def test_regular_fields_rotate_and_permute(name, request):
    net = request.getfixturevalue(name)
    group = net.group
    x = torch.randn(1, 3, EXACT, EXACT)
    features = {}
    relu = net.get_submodule("blocks.5")
    handle = relu.register_forward_hook(lambda m, i, out: features.__setitem__("relu", out.tensor))
    try:
        with torch.no_grad():
            for g in group.elements:
                net(x)
                expected = transform_regular(features["relu"], g, group)
                net(transform(x, g))
                assert torch.allclose(features["relu"], expected, atol=1e-5), g
    finally:
        handle.remove()


def test_d4_net_is_mirror_equivariant_and_classifier_is_invariant(d4_net):
    x = torch.randn(2, 3, EXACT, EXACT)
    assert max(relative_error(d4_net, x, g) for g in dihedral(4).elements[1:]) < 1e-5
    classifier = build("C4", num_classes=3)
    with torch.no_grad():
        assert torch.allclose(classifier(rotate(x, 270)), classifier(x), atol=1e-5)
    with pytest.raises(ValueError, match="multiples"):
        from ientrack.equivariance.steerable import steerable_cnn
        steerable_cnn(channels=(6,), kernel_sizes=(3,), strides=(1,), group="C4")


def test_moving_one_model_leaves_the_others_alone():
    # e2cnn caches one basis-expansion module per kernel basis for the whole process; moving a model to
    # the GPU moved every other model's bases too (a resumed training built a CPU model with CUDA bases).
    # float64 takes the GPU's place here: the same in-place move of the shared buffers.
    earlier = build("C4").train()  # train mode expands the filters from the bases at every call
    moved = build("C4").train().double()
    later = build("C4").train()
    x = torch.randn(2, 3, EXACT, EXACT)
    moved(x.double())  # its weights and bases moved together
    torch.testing.assert_close(earlier(x), later(x))  # float32 bases still; same seed, same network
