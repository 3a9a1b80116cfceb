"""A classification experiment's settings from its YAML file (``configs/cls/*.yaml``): a flat mapping of
the settings of :class:`ientrack.train.settings.ClsConfig`."""
from pathlib import Path

import yaml

from ientrack.train.settings import ClsConfig


def load_cls_config(path, **overrides) -> ClsConfig:
    """A :class:`ClsConfig` from a YAML file (a flat mapping), with ``overrides`` applied."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"classification config not found: {path}")
    with open(path, encoding="utf-8") as f:
        values = yaml.safe_load(f) or {}
    if not isinstance(values, dict):
        raise ValueError(f"{path}: expected a mapping of settings, got {type(values).__name__}")
    try:
        return ClsConfig.from_dict(values, "classification", **overrides)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from error
