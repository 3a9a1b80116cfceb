"""Exact input sizes: SiamFC's AlexNet, torchvision's ResNet-18, padding and dilation corner cases."""
import copy
from pathlib import Path

import pytest
import torch
import torch.nn as nn

from ientrack.equivariance.exactness import exact_sizes, exactness_report
from ientrack.equivariance.groups import rotate


@pytest.fixture(scope="module")
def alexnet():
    from ientrack.models.registry import build_backbone
    return build_backbone("alexnet")


@pytest.fixture(scope="module")
def resnet18():
    torchvision = pytest.importorskip("torchvision")
    return torchvision.models.resnet18(weights=None)


@pytest.mark.parametrize("size, exact", [(127, True), (255, True), (128, False), (256, False)])
def test_siamfc_alexnet_verdicts(alexnet, size, exact):
    report = exactness_report(alexnet, size)
    assert report.exact is exact
    assert report.first_break == (None if exact else "features.0")  # conv11 stride 2: (128 - 11) % 2 == 1


def test_alexnet_rows_follow_the_rule(alexnet):
    rows = exactness_report(alexnet, 127).layers
    assert [(r.type, r.in_size[0], r.stride[0]) for r in rows] == [
        ("Conv2d", 127, 2), ("MaxPool2d", 59, 2), ("Conv2d", 29, 1), ("MaxPool2d", 25, 2),
        ("Conv2d", 12, 1), ("Conv2d", 10, 1), ("Conv2d", 8, 1)]
    assert all(r.remainder == (0, 0) and r.ok for r in rows)
    assert exact_sizes(alexnet, [126, 127, 128, 129, 135]) == [127, 135]  # n = 8 m + 7


def test_exact_size_lets_rot90_commute_with_symmetric_kernels(alexnet):
    """With every kernel made C4-symmetric, the net commutes with rot90 at 127 and not at 128."""
    net = copy.deepcopy(alexnet).eval()
    with torch.no_grad():
        for conv in (m for m in net.modules() if isinstance(m, nn.Conv2d)):
            conv.weight.copy_(sum(torch.rot90(conv.weight, k, dims=(-2, -1)) for k in range(4)) / 4)
        for size in (127, 128):
            x = torch.randn(1, 3, size, size)
            out, turned = rotate(net(x), 90), net(rotate(x, 90))
            error = float((turned - out).norm() / out.norm())
            assert (error < 1e-5) if size == 127 else (error > 1e-2), (size, error)


def test_resnet18_65_exact_64_not(resnet18):
    assert exactness_report(resnet18, 65).exact
    report = exactness_report(resnet18, 64)
    assert not report.exact and report.first_break == "conv1"  # (64 + 2*3 - 7) % 2 == 1
    assert report.layers[0].remainder == (1, 1)
    names = [r.name for r in exactness_report(resnet18, 65).layers]
    assert "layer2.0.downsample.0" in names and len(names) == 21  # branches are seen too
    assert exact_sizes(resnet18, [63, 64, 65, 66, 81, 97]) == [65, 97]  # n = 32 m + 1


@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_padding_dilation_and_small_sizes():
    dilated = nn.Conv2d(1, 1, 3, stride=2, dilation=2)  # effective kernel 5
    assert exactness_report(dilated, 9).exact and not exactness_report(dilated, 8).exact
    same_even = nn.Conv2d(1, 1, 4, padding="same")  # pads 1 left, 2 right: never symmetric
    assert exactness_report(same_even, 9).first_break == "Conv2d"
    assert exactness_report(nn.Conv2d(1, 1, 3, padding="same"), 9).exact
    pool = nn.Sequential(nn.MaxPool2d(2), nn.AvgPool2d(3, stride=2, padding=1))
    assert exactness_report(pool, (10, 14), in_channels=1).layers[1].remainder == (0, 0)
    assert exactness_report(pool, (10, 11), in_channels=1).first_break == "0"
    assert exact_sizes(nn.Conv2d(1, 1, 11, stride=2), range(1, 16)) == [11, 13, 15]  # < 11 cannot run


def test_check_tool_prints_the_table_and_verdict(capsys, tmp_path, alexnet):
    from tools.check_equivariance import main
    checkpoint = tmp_path / "alexnet.pth"
    torch.save({"model": alexnet.state_dict()}, checkpoint)
    main(["--backbone", "alexnet", "--size", "128", "--checkpoint", str(checkpoint)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "not exact: first break at features.0"
    first = lines[2].split()
    assert first[:6] == ["features.0", "Conv2d", "128", "2", "1", "NO"] and float(first[6]) > 1e-3
    main(["--backbone", "alexnet", "--size", "127"])
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("exact: every strided layer tiles")
    with pytest.raises(SystemExit, match="does not exist"):
        main(["--backbone", "alexnet", "--size", "127", "--checkpoint", "no/such/file.pth"])
    with pytest.raises(SystemExit, match="input size 20 is too small for this network"):
        main(["--backbone", "alexnet", "--size", "20"])


def test_check_tool_reads_a_shipped_tracker_weights_file(capsys):
    from tools.check_equivariance import main
    weights = Path(__file__).resolve().parents[1] / "ientrack" / "zoo" / "siamfc.pt"
    main(["--backbone", "alexnet", "--size", "127", "--checkpoint", str(weights)])
    rows = capsys.readouterr().out.strip().splitlines()
    # trained weights, exact subsampling: the deepest layer's C4 error is small but not zero
    assert 0 < float(rows[-2].split()[-1]) < 0.1
