"""A classification experiment's settings from its YAML file (``configs/cls/*.yaml``): a flat mapping of
the settings of :class:`ientrack.train.settings.ClsConfig`."""
from pathlib import Path

from ientrack.train.settings import ClsConfig
from ientrack.yaml_files import read_yaml_mapping


def load_cls_config(path, **overrides) -> ClsConfig:
    """A :class:`ClsConfig` from a YAML file (a flat mapping), with ``overrides`` applied."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"classification config not found: {path}")
    values = read_yaml_mapping(path)  # malformed YAML or no mapping: a ValueError naming the file and line
    try:
        return ClsConfig.from_dict(values, "classification", **overrides)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from error
