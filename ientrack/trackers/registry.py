"""One registry for every tracker: a name is a YAML config in the tracker zoo (:func:`zoo_dir`).

Each config names its implementation with ``type`` (a key of :data:`TRACKER_TYPES`) and holds only the
constructor's keyword arguments that differ from that type's defaults (:func:`type_defaults`; the SiamFC
search settings and their defaults: :mod:`ientrack.trackers.settings`); ``weights`` and ``*_weights`` paths
are relative to the config's folder. An optional ``train:`` section holds the settings ``tools/train.py``
uses and is not passed to the tracker.

A type is an implementation, a config is a tracker. ``siamfc``, ``ien_siamfc`` and ``re_siamfc`` are three
configs of the one type ``siamfc`` (:class:`~ientrack.trackers.siamfc.SiamFCTracker`): the plain AlexNet;
the AlexNet trained with the IEN loss; the steerable (e2cnn) AlexNet exported to plain torch. They differ in
backbone, weights and search settings (the latter two search a bank of 16 rotated templates), not in code.
``effnet_siamfc`` is SiamFC over EfficientNet-Lite0's ImageNet features (type ``effnet_siamfc``);
``canon_siamfc`` puts a canonicalizer in front of it (type ``siamfc_canonicalized``); ``opencv_*`` are
OpenCV's classical trackers (type ``opencv``).
"""
import importlib
import inspect
import os
import warnings
from dataclasses import asdict
from pathlib import Path

import yaml

# type -> "module:Class"; modules are imported only when a tracker of that type is built
TRACKER_TYPES = {
    "opencv": "ientrack.trackers.opencv:OpenCVTracker",
    "siamfc": "ientrack.trackers.siamfc:SiamFCTracker",
    "effnet_siamfc": "ientrack.trackers.effnet_siamfc:EffNetSiamFCTracker",
    "siamfc_canonicalized": "ientrack.trackers.canon_siamfc:CanonSiamFCTracker",
}
# old type name -> its name now: configs that use the old name still load, with a warning
RENAMED_TYPES = {"siamfc_pretrained": "effnet_siamfc"}

ZOO_ENV = "IENTRACK_ZOO"


def zoo_dir() -> Path:
    """The folder of tracker configs: ``$IENTRACK_ZOO``, else the zoo shipped in the package
    (``ientrack/zoo/``: configs, weights and model cards, package data of every install)."""
    if os.environ.get(ZOO_ENV):
        return Path(os.environ[ZOO_ENV])
    return Path(__file__).resolve().parents[1] / "zoo"


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
    with open(path) as f:
        cfg = yaml.safe_load(f) or {}
    if cfg.get("type") in RENAMED_TYPES:
        warnings.warn(f"{path}: tracker type {cfg['type']!r} is now called {RENAMED_TYPES[cfg['type']]!r}; "
                      "please rename it there", stacklevel=2)
        cfg["type"] = RENAMED_TYPES[cfg["type"]]
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
    as each passes ``**kwargs`` on; a ``**search`` (the SiamFC trackers') takes the search settings named by
    ``cls.search_setting_names()`` and passes nothing on."""
    names = set()
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        params = list(inspect.signature(klass.__init__).parameters.values())[1:]
        names |= {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        var_keyword = [p.name for p in params if p.kind == p.VAR_KEYWORD]
        if var_keyword == ["search"]:
            return names | cls.search_setting_names()
        if not var_keyword:
            break
    return names


def type_defaults(type_name: str) -> dict:
    """Every setting of tracker type ``type_name`` that has a default, with it (the class's own default
    where it changes its base's); ``name`` left out."""
    cls = tracker_class(type_name)
    accepted = accepted_settings(cls) - {"name"}
    defaults = {k: v for k, v in asdict(cls.defaults).items() if k in accepted} if hasattr(cls, "defaults") else {}
    for klass in cls.__mro__:
        if "__init__" in vars(klass):
            for p in list(inspect.signature(klass.__init__).parameters.values())[1:]:
                if p.name in accepted and p.default is not p.empty:
                    defaults.setdefault(p.name, p.default)
    return defaults


def with_defaults(config: dict) -> dict:
    """A loaded config with its type's defaults filled in: every setting the tracker runs with."""
    return {**type_defaults(config["type"]), **config}


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
