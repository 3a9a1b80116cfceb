"""SiamFC over a backbone whose builder brings its own pretrained weights, so no tracker checkpoint is
needed (``effnet_siamfc``: EfficientNet-Lite0's ImageNet features, untrained for tracking)."""
from typing import Optional

from ientrack.models.registry import build_backbone
from ientrack.trackers.siamfc import SiamFCTracker


class PretrainedSiamFCTracker(SiamFCTracker):
    """:class:`SiamFCTracker` with ``build_backbone(backbone, **backbone_args)`` used as given; ``weights``
    (optional) are loaded on top of it, e.g. after fine-tuning."""

    def __init__(self, name: str = "effnet_siamfc", backbone: str = "effnet_lite0_s8",
                 backbone_args: Optional[dict] = None, **kw):
        super().__init__(name=name, backbone=build_backbone(backbone, **(backbone_args or {})), **kw)
