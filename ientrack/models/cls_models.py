"""One registry of classification networks: ``build_cls_model(name, num_classes, in_channels, **kw)``.

==========================  =====================================================================
name                        network
==========================  =====================================================================
``cnn_basic``               the IEN paper's CNNBasic (:mod:`.cnn_basic`); exact at 28 px
``vgg11``                   VGG-11 with BN for 64-px images (:mod:`.vgg`); ``width_mult`` scales it
``vgg11_small``             the same at a quarter width (16 ... 128 channels)
``resnet18``                torchvision's ResNet-18 (:mod:`.resnet`); exact at 33, 65, 97 px
``alexnet_siamfc``          the tracker's backbone ``build_backbone('alexnet')`` + global pool +
                            linear (:class:`BackboneClassifier`), for pre-training it; exact at 127
``steerable_cnn_basic``     e2cnn counterpart of CNNBasic: regular fields of the group, group
                            pooling before the classifier; exact at 29 px (see below)
==========================  =====================================================================

Common keywords: ``group`` (``'C4'``/``'R4'``, ``'C8'``, ``'D4'``...), ``field_spec`` (``homog``,
``hetero`` or ``plain``, see :mod:`.cls_fields`), ``hetero`` (``hetero_widths`` options), ``widths``
(override the base widths). Plain networks declare their ``fields`` (see
:mod:`ientrack.equivariance.ien_loss`) and carry ``channels``.

The steerable CNNBasic replaces the two 2 x 2 max pools by stride 2 in blocks 3 and 5
(``ientrack.equivariance.steerable.steerable_cnn`` stacks conv blocks only), which moves its exact
input size from 28 to 29 (29 -> 25 -> 25 -> 13 -> 13 -> 7 -> 3), and its head is global average pooling +
one linear layer. Its channel counts equal CNNBasic's, so it has the same activations and about 1/|G|
of the parameters. For inference use ``ientrack.equivariance.steerable.export_to_torch``.
"""
import torch.nn as nn

from ientrack.equivariance import cyclic, group_from_name
from ientrack.models.cls_fields import BuiltFields, FieldPool, width_fields
from ientrack.models.cnn_basic import CNN_BASIC_WIDTHS, KERNELS, PADDINGS, CNNBasic
from ientrack.models.resnet import RESNET18_WIDTHS, resnet18_classifier
from ientrack.models.vgg import VGG, vgg_base_widths

STEERABLE_STRIDES = (1, 1, 2, 1, 2, 1)


class BackboneClassifier(nn.Module):
    """A tracking backbone + field pooling + global average pooling + linear classifier.

    Inputs are images in [0, 1]; they are multiplied by ``input_scale`` (255: the tracker's backbones
    take 0..255 RGB) before the backbone, so that the backbone's weights transfer as they are.
    """

    def __init__(self, backbone: nn.Module, num_classes: int, group="C4", field_spec: str = "homog",
                 input_scale: float = 255.0):
        super().__init__()
        if field_spec not in ("homog", "plain"):
            raise ValueError(f"a tracking backbone has fixed widths: use field_spec 'homog' or 'plain', "
                             f"not {field_spec!r}")
        self.backbone, self.input_scale = backbone, input_scale
        group = group_from_name(group) if isinstance(group, str) else group
        declared = backbone.fields(group if field_spec == "homog" else cyclic(1))  # plain: fields of order 1
        self.fields = BuiltFields({f"backbone.{name}": spec for name, spec in declared.items()})
        specs = list(declared.values())
        self.channels = [spec.channels for spec in specs]
        self.field_pool = FieldPool(specs[-1])
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(specs[-1].fields, num_classes))

    def forward(self, x):
        return self.head(self.field_pool(self.backbone(x * self.input_scale)))


def _cnn_basic(num_classes, in_channels, group="C4", field_spec="homog", hetero=None, widths=CNN_BASIC_WIDTHS):
    return CNNBasic(width_fields(widths, group, field_spec, hetero), num_classes, in_channels)


def _vgg11(num_classes, in_channels, group="C4", field_spec="homog", hetero=None, width_mult=1.0, widths=None):
    widths = widths or vgg_base_widths(width_mult=width_mult)
    return VGG(width_fields(widths, group, field_spec, hetero), num_classes, in_channels)


def _vgg11_small(num_classes, in_channels, **kw):
    return _vgg11(num_classes, in_channels, **{"width_mult": 0.25, **kw})


def _resnet18(num_classes, in_channels, group="C4", field_spec="homog", hetero=None, widths=RESNET18_WIDTHS):
    return resnet18_classifier(width_fields(widths, group, field_spec, hetero), num_classes, in_channels)


def _alexnet_siamfc(num_classes, in_channels, group="C4", field_spec="homog"):
    from ientrack.models.registry import build_backbone

    if in_channels != 3:
        raise ValueError(f"alexnet_siamfc takes RGB images (3 channels), got {in_channels}")
    return BackboneClassifier(build_backbone("alexnet"), num_classes, group, field_spec)


def _steerable_cnn_basic(num_classes, in_channels, group="C4", field_spec="homog", widths=CNN_BASIC_WIDTHS):
    from ientrack.equivariance.steerable import steerable_cnn

    if field_spec != "homog":
        raise ValueError(f"the steerable CNNBasic has regular fields of one group only, not {field_spec!r}")

    return steerable_cnn(channels=tuple(widths), kernel_sizes=KERNELS, strides=STEERABLE_STRIDES,
                         paddings=PADDINGS, group=group, in_channels=in_channels, num_classes=num_classes)


_MODELS = {
    "cnn_basic": _cnn_basic,
    "vgg11": _vgg11,
    "vgg11_small": _vgg11_small,
    "resnet18": _resnet18,
    "alexnet_siamfc": _alexnet_siamfc,
    "steerable_cnn_basic": _steerable_cnn_basic,
}


def available_cls_models() -> list:
    """Names of every registered classification network."""
    return sorted(_MODELS)


def register_cls_model(name: str, factory) -> None:
    """Add ``factory(num_classes, in_channels, **kw) -> nn.Module`` under ``name``."""
    _MODELS[name] = factory


def build_cls_model(name: str, num_classes: int, in_channels: int = 3, **kw) -> nn.Module:
    """A classification network by ``name`` (table above) for ``num_classes`` and ``in_channels``."""
    if name not in _MODELS:
        raise ValueError(f"unknown classification model {name!r}; known: {', '.join(available_cls_models())}")
    return _MODELS[name](num_classes, in_channels, **kw)
