"""One registry for every tracker: a name is a YAML config under the zoo folder ``trackers/``.

Each config names its implementation with ``type`` (a key of :data:`TRACKER_TYPES`) and holds the
constructor's keyword arguments; ``weights`` and ``*_weights`` paths are relative to the config's folder. An optional
``train:`` section holds the settings ``tools/train.py`` uses and is not passed to the tracker.
"""
import importlib
import inspect
import os
from pathlib import Path

from ientrack.yaml_files import read_yaml_mapping

# type -> "module:Class"; modules are imported only when a tracker of that type is built
TRACKER_TYPES = {
    "opencv": "ientrack.trackers.opencv:OpenCVTracker",
    "siamfc": "ientrack.trackers.siamfc:SiamFCTracker",
    "siamfc_pretrained": "ientrack.trackers.pretrained_siamfc:PretrainedSiamFCTracker",
    "siamfc_canonicalized": "ientrack.trackers.canon_siamfc:CanonSiamFCTracker",
}

ZOO_ENV = "IENTRACK_ZOO"


def zoo_dir() -> Path:
    """The folder of tracker configs: ``$IENTRACK_ZOO`` or the repository's ``trackers/``."""
    if os.environ.get(ZOO_ENV):
        return Path(os.environ[ZOO_ENV])
    return Path(__file__).resolve().parents[2] / "trackers"


def available_trackers():
    """Names of every tracker config in the zoo."""
    return sorted(p.stem for p in zoo_dir().glob("*.yaml"))


def load_config(name_or_path: str) -> dict:
    """The config of a tracker name, or of a YAML file given by path (pysot's ``--config``)."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml") or not path.is_file():
        path = zoo_dir() / f"{name_or_path}.yaml"
    if not path.is_file():
        raise ValueError(
            f"unknown tracker {name_or_path!r}: no config {path}. Known trackers: {', '.join(available_trackers())}"
        )
    cfg = read_yaml_mapping(path)
    if "type" not in cfg or cfg["type"] not in TRACKER_TYPES:
        raise ValueError(f"{path}: 'type' must be one of {sorted(TRACKER_TYPES)}, got {cfg.get('type')!r}")
    cfg.setdefault("name", path.stem)
    for key in [k for k in cfg if k == "weights" or k.endswith("_weights")]:
        if cfg[key]:
            cfg[key] = str((path.parent / cfg[key]).resolve())
    return cfg


def tracker_class(type_name: str):
    module, cls = TRACKER_TYPES[type_name].split(":")
    return getattr(importlib.import_module(module), cls)


def accepted_settings(cls) -> set:
    """The keyword arguments ``cls(...)`` takes: those of each ``__init__`` along the class's bases, as far
    as each passes ``**kwargs`` on."""
    names = set()
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        params = list(inspect.signature(klass.__init__).parameters.values())[1:]
        names |= {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return names


def build_tracker(tracker: str, /, **overrides):
    """Any tracker by its name (or config path), ready for ``init(frame, box)`` with an RGB uint8 frame.

    ``overrides`` replace config values (e.g. ``device="cpu"``, ``weights="my.pt"``, or ``name`` to
    rename it); ``None`` values are ignored so that command-line defaults pass through.
    """
    cfg = load_config(tracker)
    cfg.update({k: v for k, v in overrides.items() if v is not None})
    type_name = cfg.pop("type")
    cfg.pop("train", None)  # training settings (tools/train.py) are not the tracker's
    cls = tracker_class(type_name)
    accepted = accepted_settings(cls)
    unknown = sorted(set(cfg) - accepted)
    if unknown:
        raise ValueError(f"tracker {tracker!r} (type {type_name}): unknown setting(s) {', '.join(unknown)}; "
                         f"{type_name} takes {', '.join(sorted(accepted))}")
    return cls(**cfg)
