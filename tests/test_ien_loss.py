"""The IEN loss: ~0 on networks equivariant by construction, > 0 on plain ones, trainable, removable."""
import pytest
import torch
import torch.nn as nn

from ientrack.equivariance.groups import cyclic, dihedral, transform
from ientrack.equivariance.ien_loss import IENLoss, ien_step
from ientrack.equivariance.pooling import FieldSpec

SIZE = 17  # (17 - 3) % 2 == 0: the stride-2 layer tiles its input exactly


def small_cnn(symmetric_under=None, classes=None, kernel=3):
    """conv -> ReLU -> conv stride 2 -> ReLU (-> classifier); kernels averaged over a group if asked."""
    torch.manual_seed(0)
    layers = [nn.Conv2d(3, 8, kernel, padding=kernel // 2), nn.ReLU(), nn.Conv2d(8, 8, kernel, stride=2), nn.ReLU()]
    if classes:
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, classes)]
    net = nn.Sequential(*layers)
    if symmetric_under is not None:
        with torch.no_grad():
            for conv in (net[0], net[2]):
                conv.weight.copy_(torch.stack([transform(conv.weight, g) for g in symmetric_under.elements]).mean(0))
    return net


SCALAR_SPECS = {"1": FieldSpec.homogeneous(8, 1), "3": FieldSpec.homogeneous(8, 1)}


def equivariance_loss(net, specs, group, x):
    """The IEN term of one step on ``x``, the group elements drawn from a seeded generator (an unseeded
    draw of the identity for every sample gives exactly 0)."""
    with IENLoss(net, specs, group) as ien:
        batch, elements = ien.augment(x, torch.Generator().manual_seed(0))
        net(batch)
        return ien.loss(elements)


@pytest.mark.parametrize("group", [cyclic(4), dihedral(4)], ids=str)
def test_loss_vanishes_on_a_net_with_symmetric_kernels(group):
    x = torch.randn(6, 3, SIZE, SIZE)
    assert equivariance_loss(small_cnn(group), SCALAR_SPECS, group, x) < 1e-10
    assert equivariance_loss(small_cnn(), SCALAR_SPECS, group, x) > 1e-3


def test_c4_symmetric_net_is_not_d4_equivariant_and_pooling_matters():
    x = torch.randn(8, 3, SIZE, SIZE)
    chiral = small_cnn(cyclic(4), kernel=5)  # 3x3 kernels symmetric under C4 are mirror-symmetric too
    assert equivariance_loss(chiral, SCALAR_SPECS, cyclic(4), x) < 1e-10
    assert equivariance_loss(chiral, SCALAR_SPECS, dihedral(4), x) > 1e-4
    pooled = {"3": FieldSpec.homogeneous(8, 4)}
    assert equivariance_loss(small_cnn(), pooled, cyclic(4), x) > 1e-4


def test_interpolated_group_compares_inside_the_disk():
    """A per-pixel linear net is equivariant to any rotation; with C8 only the resampling error is left."""
    yy, xx = torch.meshgrid(torch.arange(33.0), torch.arange(33.0), indexing="ij")
    blob = torch.exp(-((xx - 12) ** 2 + (yy - 18) ** 2) / 40) + torch.exp(-((xx - 22) ** 2 + (yy - 10) ** 2) / 60)
    x = torch.stack([blob, blob.flip(0), blob.flip(1)])[None].repeat(4, 1, 1, 1)
    linear = nn.Sequential(nn.Conv2d(3, 4, 1))
    specs = {"0": FieldSpec.homogeneous(4, 1)}
    energy = linear(x).pow(2).mean()
    assert equivariance_loss(linear, specs, cyclic(8), x) < 1e-3 * energy
    assert equivariance_loss(small_cnn(), SCALAR_SPECS, cyclic(8), torch.randn(4, 3, SIZE, SIZE)) > 1e-3


def test_interpolated_groups_leave_out_2x2_maps_which_hold_no_disk():
    """CNNBasic at 28 px ends in 2 x 2 maps: C8's disk there is empty, so that layer is left out (it
    made the whole loss NaN once); a net whose every tapped map is 2 x 2 is refused by name."""
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2))
    specs = {"1": FieldSpec.homogeneous(8, 1), "2": FieldSpec.homogeneous(8, 1)}
    loss = equivariance_loss(net, specs, cyclic(8), torch.randn(4, 3, 16, 16))
    assert torch.isfinite(loss) and loss > 0
    with pytest.raises(ValueError, match="too small"):
        equivariance_loss(net, {"2": specs["2"]}, cyclic(8), torch.randn(4, 3, 16, 16))


def test_gradients_flow_and_a_few_steps_reduce_the_loss():
    net = small_cnn()
    x = torch.randn(8, 3, SIZE, SIZE)
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-2)
    with IENLoss(net, SCALAR_SPECS, cyclic(4)) as ien:
        generator = torch.Generator().manual_seed(0)
        losses = []
        for _ in range(15):
            batch, elements = ien.augment(x, generator)
            net(batch)
            loss = ien.loss(elements)
            optimiser.zero_grad()
            loss.backward()
            assert net[0].weight.grad.abs().sum() > 0
            optimiser.step()
            losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses


def test_ien_step_runs_task_and_equivariance_in_one_forward():
    net = small_cnn(classes=5)
    x, y = torch.randn(4, 3, SIZE, SIZE), torch.tensor([0, 1, 2, 3])
    calls = []
    net.register_forward_hook(lambda module, inputs, output: calls.append(inputs[0].shape[0]))
    with IENLoss(net, SCALAR_SPECS, cyclic(4), beta=0.5) as ien:
        total, task, equiv = ien_step(net, ien, (x,), lambda out: nn.functional.cross_entropy(out, torch.cat([y, y])),
                                      generator=torch.Generator().manual_seed(0))
    assert calls == [8]
    assert torch.isclose(total, task + 0.5 * equiv) and equiv > 0
    total.backward()
    assert net[-1].weight.grad is not None
    with IENLoss(net, SCALAR_SPECS, cyclic(4), beta=0.0) as ien:
        total, task, _ = ien_step(net, ien, (x,), lambda out: nn.functional.cross_entropy(out, torch.cat([y, y])))
    assert torch.equal(total, task)


def test_hooks_are_removed_and_bad_layers_are_named():
    net = small_cnn()
    ien = IENLoss(net, SCALAR_SPECS, cyclic(4))
    assert len(net[1]._forward_hooks) == 1
    ien.remove()
    assert all(len(m._forward_hooks) == 0 for m in net.modules())
    net(torch.randn(1, 3, SIZE, SIZE))
    assert ien.calls == {}
    with pytest.raises(KeyError, match="conv9"):
        IENLoss(net, {"conv9": FieldSpec.homogeneous(8, 1)}, cyclic(4))
    with IENLoss(net, SCALAR_SPECS, cyclic(4)) as ien:
        batch, elements = ien.augment(torch.randn(3, 3, SIZE, SIZE))
        net(batch)
        with pytest.raises(RuntimeError, match="ran 1 time"):  # a module called once has no second call
            ien.loss(elements, call=1)
    with IENLoss(net, SCALAR_SPECS, cyclic(4)) as ien:
        net(torch.randn(3, 3, SIZE, SIZE))
        with pytest.raises(ValueError, match="cat"):
            ien.loss(cyclic(4).sample(3))


def test_taps_a_torchvision_resnet_by_name_with_a_hetero_spec():
    torchvision = pytest.importorskip("torchvision")
    from ientrack.equivariance.pooling import hetero_widths
    net = torchvision.models.resnet18(weights=None, num_classes=3)
    net.conv1 = nn.Conv2d(3, 45, 7, 2, 3, bias=False)  # a hetero stem: 3 x (R8 + R4 + R2 + R1)
    net.bn1 = nn.BatchNorm2d(45)
    net.layer1[0].conv1 = nn.Conv2d(45, 64, 3, padding=1, bias=False)
    net.layer1[0].downsample = nn.Conv2d(45, 64, 1, bias=False)
    specs = {"relu": hetero_widths(64), "layer4": FieldSpec.homogeneous(512, 8)}
    # seeded: unseeded, both samples drew the identity once in 64 runs, whose term is exactly 0
    draw = torch.Generator().manual_seed(0)
    with IENLoss(net, specs, dihedral(4)) as ien:
        y = torch.tensor([0, 2])
        total, task, equiv = ien_step(net, ien, (torch.randn(2, 3, 65, 65, generator=draw),),
                                      lambda out: nn.functional.cross_entropy(out, torch.cat([y, y])),
                                      generator=draw)
        assert [t.shape for t in ien.calls["relu"]] == [(4, 45, 33, 33)] and equiv > 0
    total.backward()
    assert net.conv1.weight.grad.abs().sum() > 0
