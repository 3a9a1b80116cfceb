"""The AlexNet of SiamFC v1 (Bertinetto et al. 2016): total stride 8, exemplar 127 -> 6x6, instance 255 -> 22x22."""
import torch.nn as nn

from ientrack.equivariance import FieldSpec, PlanarGroup


def _conv_bn_relu(c_in, c_out, kernel, stride=1, groups=1, pool=False):
    layers = [nn.Conv2d(c_in, c_out, kernel, stride, groups=groups), nn.BatchNorm2d(c_out, eps=1e-6, momentum=0.05)]
    layers.append(nn.ReLU(inplace=True))
    if pool:
        layers.append(nn.MaxPool2d(3, 2))
    return layers


class AlexNetV1(nn.Module):
    """SiamFC's AlexNet: conv11/2 96 + BN + ReLU + pool3/2, conv5 256 (g2) + BN + ReLU + pool3/2,
    conv3 384 + BN + ReLU, conv3 384 (g2) + BN + ReLU, conv3 256 (g2). No padding anywhere, so 127 and
    255 (not 128 or 256) are subsampled exactly (``ientrack.equivariance.exactness.exactness_report``)."""

    total_stride = 8
    out_channels = 256
    #: the outputs the IEN term compares: each conv block after its ReLU, and the embedding (conv5)
    TAPPED = {"features.2": 96, "features.6": 256, "features.10": 384, "features.13": 384, "features.14": 256}

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            *_conv_bn_relu(3, 96, 11, stride=2, pool=True),
            *_conv_bn_relu(96, 256, 5, groups=2, pool=True),
            *_conv_bn_relu(256, 384, 3),
            *_conv_bn_relu(384, 384, 3, groups=2),
            nn.Conv2d(384, 256, 3, groups=2),
        )

    def forward(self, x):
        return self.features(x)

    def fields(self, group: PlanarGroup) -> dict[str, FieldSpec]:
        """Every tapped output as regular fields of ``group``: ``channels / |G|`` fields of ``|G|`` channels."""
        return {name: FieldSpec.homogeneous(channels, group.order) for name, channels in self.TAPPED.items()}
