"""Classification networks: CNNBasic's published sizes, exact input sizes, field specs the IEN loss can tap,
the steerable CNNBasic and its export, and the SiamFC AlexNet as a classifier."""
import pytest
import torch

from ientrack.equivariance import exactness_report
from ientrack.equivariance import group_from_name
from ientrack.models.cls_fields import count_parameters, width_fields
from ientrack.models.cls_models import available_cls_models, build_cls_model
from ientrack.models.registry import build_backbone

TINY = {"cnn_basic": ((8, 8, 8, 8, 8, 16), 1, 28), "vgg11": ((8,) * 8, 3, 64), "resnet18": ((8, 8, 16, 16), 3, 65)}


def test_cnn_basic_matches_the_ien_paper_sizes():
    homog = build_cls_model("cnn_basic", 10, 1, group="R4")
    assert count_parameters(homog) == 10_882_186  # the 10.9 M of the published homogeneous CNNBasic
    hetero = build_cls_model("cnn_basic", 10, 1, group="R4", field_spec="hetero")
    assert hetero.channels == [88, 132, 176, 176, 264, 352]  # the published heterogeneous widths
    assert hetero.fields(group_from_name("R4"))["features.block1"].groups == ((4, 16), (2, 8), (1, 8))
    assert hetero.field_pool.spec.fields == 128  # the 128 inputs of its first linear layer


def test_exact_input_sizes():
    assert exactness_report(build_cls_model("cnn_basic", 10, 1, widths=TINY["cnn_basic"][0]), 28).exact
    assert not exactness_report(build_cls_model("cnn_basic", 10, 1, widths=TINY["cnn_basic"][0]), 30).exact
    resnet = build_cls_model("resnet18", 10, 3, widths=TINY["resnet18"][0])
    assert exactness_report(resnet, 65).exact and not exactness_report(resnet, 64).exact
    vgg = build_cls_model("vgg11", 10, 3, widths=TINY["vgg11"][0])
    assert exactness_report(vgg, 64).exact and not exactness_report(vgg, 65).exact


@pytest.mark.parametrize("name", sorted(TINY))
@pytest.mark.parametrize("kind", ["homog", "hetero"])
def test_declared_fields_describe_the_tapped_outputs(name, kind):
    widths, channels, size = TINY[name]
    model = build_cls_model(name, 7, channels, group="C8", field_spec=kind, widths=widths).eval()
    declared = model.fields(group_from_name("C8"))
    assert output_channels(model, declared, torch.zeros(2, channels, size, size)) == \
        {layer: spec.channels for layer, spec in declared.items()}
    with torch.no_grad():
        assert model(torch.zeros(2, channels, size, size)).shape == (2, 7)
    expected = width_fields(widths, "C8", kind)
    assert [spec.channels for spec in expected] == model.channels
    if kind == "homog":
        assert all(spec.groups == ((8, w // 8),) for spec, w in zip(expected, widths))


def output_channels(model, layers, x) -> dict:
    """The channels of each of ``layers``' outputs when ``model`` runs on ``x``."""
    modules = dict(model.named_modules())
    seen = {}
    handles = [modules[layer].register_forward_hook(lambda m, i, o, layer=layer: seen.__setitem__(layer, o.shape[1]))
               for layer in layers]
    with torch.no_grad():
        model(x)
    for handle in handles:
        handle.remove()
    return seen


@pytest.mark.parametrize("group", ["C4", "C8"])
def test_the_tracking_alexnet_declares_regular_fields_of_the_group_on_its_conv_blocks(group):
    backbone = build_backbone("alexnet").eval()
    declared = backbone.fields(group_from_name(group))
    assert output_channels(backbone, declared, torch.zeros(1, 3, 127, 127)) == \
        {layer: spec.channels for layer, spec in declared.items()}
    order = group_from_name(group).order
    assert all(spec.groups == ((order, spec.channels // order),) for spec in declared.values())
    assert list(declared) == [f"features.{i}" for i in (2, 6, 10, 13, 14)]  # after each ReLU, and conv5


def test_group_pooled_cnn_basic_is_invariant_to_quarter_turns_at_init():
    """Not by construction (only the IEN loss makes it so), so this must FAIL: a guard that invariance
    tests elsewhere can tell invariant from non-invariant models."""
    torch.manual_seed(0)
    model = build_cls_model("cnn_basic", 10, 1, widths=TINY["cnn_basic"][0]).eval()
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        assert not torch.allclose(model(x), model(torch.rot90(x, 1, (2, 3))), atol=1e-3)


def test_steerable_cnn_basic_is_c4_invariant_and_exports_to_plain_torch():
    from ientrack.equivariance.steerable import export_to_torch

    torch.manual_seed(0)
    model = build_cls_model("steerable_cnn_basic", 10, 1, group="C4", widths=(4, 4, 8, 8, 8, 8)).eval()
    assert exactness_report(model, 29).exact and not exactness_report(model, 28).exact
    x = torch.rand(3, 1, 29, 29)
    plain = export_to_torch(model)
    assert not any(type(m).__module__.startswith("e2cnn") for m in plain.modules())
    with torch.no_grad():
        logits = model(x)
        assert torch.allclose(logits, model(torch.rot90(x, 1, (2, 3))), atol=1e-5)
        assert torch.allclose(plain(x), logits, atol=1e-5)
    with pytest.raises(ValueError, match="hetero"):
        build_cls_model("steerable_cnn_basic", 10, 1, field_spec="hetero")


def test_alexnet_classifier_wraps_the_tracking_backbone():
    model = build_cls_model("alexnet_siamfc", 5, 3, group="C4").eval()
    fresh = build_backbone("alexnet")
    fresh.load_state_dict(model.backbone.state_dict(), strict=True)
    assert list(model.fields(group_from_name("C4"))) == [f"backbone.features.{i}" for i in (2, 6, 10, 13, 14)]
    plain = build_cls_model("alexnet_siamfc", 5, 3, group="C4", field_spec="plain")
    assert all(spec.groups[0][0] == 1 for spec in plain.fields(group_from_name("C4")).values())
    assert model.channels == [96, 256, 384, 384, 256] and exactness_report(model, 127).exact
    x = torch.rand(2, 3, 127, 127)
    with torch.no_grad():  # the backbone sees 0..255 pixels, as in the tracker
        assert torch.allclose(model.backbone(x * 255), fresh.eval()(x * 255))
        assert model(x).shape == (2, 5)
    with pytest.raises(ValueError, match="fixed widths"):
        build_cls_model("alexnet_siamfc", 5, 3, field_spec="hetero")


def test_registry_lists_models_and_rejects_unknown_names():
    assert {"cnn_basic", "vgg11", "vgg11_small", "resnet18", "alexnet_siamfc", "steerable_cnn_basic"} <= set(
        available_cls_models())
    with pytest.raises(ValueError, match="unknown classification model 'lenet'"):
        build_cls_model("lenet", 10, 1)
    with pytest.raises(ValueError, match="field spec"):
        build_cls_model("cnn_basic", 10, 1, field_spec="mixed")
