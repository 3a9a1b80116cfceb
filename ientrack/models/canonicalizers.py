"""The canonicalizers the toolkit builds from plain settings (what a checkpoint's meta records), on trunks
of the model zoo; the canonicalizers themselves are :mod:`ientrack.equivariance.canonicalize`'s, which
knows nothing of the zoo."""
from ientrack.checkpoint import CheckpointError, load_checkpoint
from ientrack.equivariance.canonicalize import (Canonicalizer, EquivariantCanonicalizer, PosePredictor,
                                                small_cnn_trunk)
from ientrack.models.efficientnet_lite import efficientnet_lite0


def build_canonicalizer(trunk: str = "lite0", group: str = "C4", size: int = 64, search: bool = True,
                        trunk_stride: int = 16, pretrained: bool = True, width: int = 16) -> PosePredictor:
    """A canonicalizer from plain settings (what a checkpoint's meta records).

    ``trunk='lite0'``: a :class:`Canonicalizer` on the first stages of the ImageNet EfficientNet-Lite0 up
    to ``trunk_stride``, frozen (``pretrained=False`` leaves them random, for loading a checkpoint that
    holds them); ``'small'``: on :func:`small_cnn_trunk`, trained; ``'e2cnn'``: the whole canonicalizer is
    the steerable :class:`EquivariantCanonicalizer` with ``width``, ``2 width``, ``2 width`` channels
    (``search`` and ``trunk_stride`` do not apply).
    """
    if trunk == "e2cnn":
        return EquivariantCanonicalizer(group, size, channels=(width, 2 * width, 2 * width))
    if trunk == "lite0":
        body = efficientnet_lite0(pretrained=pretrained).trunk(trunk_stride)
        return Canonicalizer(body, group, size, search, freeze_trunk=True)
    if trunk == "small":
        return Canonicalizer(small_cnn_trunk(), group, size, search)
    raise ValueError(f"unknown canonicalizer trunk {trunk!r}: expected 'lite0', 'small' or 'e2cnn'")


def load_canonicalizer(path) -> PosePredictor:
    """A trained canonicalizer (eval mode) from a checkpoint written by the canonicalizer trainer."""
    state, meta = load_checkpoint(path)
    if "canonicalizer" not in meta:
        raise CheckpointError(f"{path}: no 'canonicalizer' settings in its meta; not a canonicalizer checkpoint")
    model = build_canonicalizer(**meta["canonicalizer"], pretrained=False)
    model.load_state_dict({k[len("model."):]: v for k, v in state.items() if k.startswith("model.")}, strict=True)
    return model.eval()
