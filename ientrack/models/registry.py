"""One registry of backbones: ``build_backbone(name, **kw)`` and ``available_backbones()``.

A backbone is an ``nn.Module`` mapping ``B x 3 x H x W`` float images (0..255 RGB) to feature maps, with
attributes ``total_stride`` and ``out_channels`` and, where it has one, ``exact_input(size) -> bool``.
Entries are ``"module:attribute"`` strings, imported only when built, or callables.
"""
import importlib

_BACKBONES = {
    "alexnet": "ientrack.models.alexnet:AlexNetV1",
    "steerable_alexnet_c4": "ientrack.models.steerable_alexnet:steerable_alexnet_c4",
    "steerable_alexnet_c8": "ientrack.models.steerable_alexnet:steerable_alexnet_c8",
    "steerable_alexnet_c4_e2cnn": "ientrack.models.steerable_alexnet:steerable_alexnet_c4_e2cnn",
    "steerable_alexnet_c8_e2cnn": "ientrack.models.steerable_alexnet:steerable_alexnet_c8_e2cnn",
    "effnet_lite0_s8": "ientrack.models.effnet_backbone:effnet_lite0_s8",
}


def register_backbone(name: str, factory) -> None:
    """Add a backbone: ``factory`` is a callable or a ``"module:attribute"`` string."""
    _BACKBONES[name] = factory


def available_backbones():
    """Names of every registered backbone."""
    return sorted(_BACKBONES)


def build_backbone(name: str, **kw):
    """A backbone by name, constructed with ``kw``."""
    if name not in _BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; known backbones: {', '.join(available_backbones())}")
    factory = _BACKBONES[name]
    if isinstance(factory, str):
        module, attr = factory.split(":")
        factory = getattr(importlib.import_module(module), attr)
    return factory(**kw)
