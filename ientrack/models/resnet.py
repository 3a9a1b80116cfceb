"""ResNet-18 for classification: torchvision's ``resnet18(weights=None)`` with widths from field specs.

The four stages take the channels of their :class:`FieldSpec` (the stem shares stage 1's, as in
torchvision, where both have 64), and the last stage's output is group-pooled before global average
pooling and the linear classifier. Exact input sizes are ``32 k + 1`` (33, 65, 97...): the stride-2
stem conv, the stem max pool and the three stride-2 stages each need an odd input size.
"""
import torch.nn as nn
from torchvision.models import resnet18
from torchvision.models.resnet import BasicBlock

from ientrack.models.cls_fields import BuiltFields, FieldPool

RESNET18_WIDTHS = (64, 128, 256, 512)


def _init_like_torchvision(net: nn.Module) -> None:
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def resnet18_classifier(specs, num_classes: int, in_channels: int = 3) -> nn.Module:
    """ResNet-18 whose stages have the channels of ``specs`` (four field specs), declaring its ``fields``."""
    if len(specs) != 4:
        raise ValueError(f"ResNet-18 has 4 stages, got {len(specs)} field specs")
    net = resnet18(weights=None, num_classes=num_classes)
    widths = [spec.channels for spec in specs]
    net.inplanes = widths[0]
    net.conv1 = nn.Conv2d(in_channels, widths[0], 7, stride=2, padding=3, bias=False)
    net.bn1 = nn.BatchNorm2d(widths[0])
    for stage, width in enumerate(widths, 1):
        setattr(net, f"layer{stage}", net._make_layer(BasicBlock, width, 2, stride=1 if stage == 1 else 2))
    net.avgpool = nn.Sequential(FieldPool(specs[-1]), nn.AdaptiveAvgPool2d(1))
    net.fc = nn.Linear(specs[-1].fields, num_classes)
    _init_like_torchvision(net)
    net.fields = BuiltFields({f"layer{stage}": spec for stage, spec in enumerate(specs, 1)})
    net.channels = widths
    return net
