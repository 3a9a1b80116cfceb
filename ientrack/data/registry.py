"""One entry point for every dataset: ``load_dataset("OTB100")``, ``load_dataset("Rot4-GOT10k-val")``...

Names (case-insensitive): ``OTB100`` (= ``OTB2015``), ``OTB2013``, ``OTB50``, ``GOT10k-train`` / ``-val`` /
``-test``, ``VOT<year>`` or ``VOT``, ``LaSOT`` (the 280-sequence test split), ``LaSOT-train``, ``LaSOT-full``,
``UAV123``, ``UAV20L``, ``Builtin`` (the synthetic benchmark), ``Builtin-train`` (64 more synthetic
sequences from other seeds, for training), ``Builtin-still`` (8 synthetic targets that stay upright but
tilt out of the image plane), ``Builtin-still-train`` (64 more of those, for training), ``json:<path>``
or any ``*.json`` path (a pysot-style annotation file; frames under ``root``). ``Rot-<name>`` /
``Rot<omega>-<name>`` wraps any of them in the Rot protocol (in-plane rotation of ``omega`` degrees per
frame, :data:`ientrack.data.rot.DEFAULT_OMEGA` by default); its name is :func:`canonical_name`'s, so
``Rot2-OTB100`` and ``Rot-OTB100`` are one dataset, ``Rot-OTB100``, in every folder and table.
"""
import re
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from ientrack.data.errors import DatasetNotFoundError
from ientrack.data.got10k import load_got10k
from ientrack.data.lasot import load_lasot
from ientrack.data.otb import load_otb
from ientrack.data.pysot_json import load_pysot_json
from ientrack.data.roots import resolve_root
from ientrack.data.rot import DEFAULT_OMEGA, rot_dataset_name, rotate_dataset
from ientrack.data.sequence import Dataset
from ientrack.data.uav123 import load_uav123
from ientrack.data.vot import load_vot

_ROT_PREFIX = re.compile(r"^rot(\d+(?:\.\d+)?)?-(.+)$", re.IGNORECASE)
_VOT_NAME = re.compile(r"^vot(\d{4})?$", re.IGNORECASE)


BUILTIN_VARIANTS = {  # the options of the built-in datasets other than Builtin; disjoint draws (other seeds)
    "Builtin-train": {"num_sequences": 64, "seed": 1},
    "Builtin-still": {"family": "still", "seed": 2},
    "Builtin-still-train": {"family": "still", "num_sequences": 64, "seed": 3},
}


def _builtin(root, name, allow_partial, **options) -> Dataset:
    from ientrack.data.synthetic import load_builtin  # written separately; imported only when asked for
    dataset = load_builtin(cache_dir=root, **{**BUILTIN_VARIANTS.get(name, {}), **options})
    dataset.name = name
    return dataset


def _call(loader, *args):
    """A loader ``f(root, name, allow_partial, **options)`` from one taking ``(root, *args, allow_partial)``."""
    return lambda root, name, allow_partial, **options: loader(root, *args, allow_partial, name=name, **options)


# lower-case name -> (canonical name, root families (most specific first), loader(root, name, allow_partial))
_DATASETS: Dict[str, Tuple[str, List[str], Callable]] = {
    "otb100": ("OTB100", ["OTB"], _call(load_otb, "OTB100")),
    "otb2015": ("OTB2015", ["OTB"], _call(load_otb, "OTB100")),
    "otb2013": ("OTB2013", ["OTB"], _call(load_otb, "OTB2013")),
    "otb50": ("OTB50", ["OTB"], _call(load_otb, "OTB50")),
    "got10k-train": ("GOT10k-train", ["GOT10K"], _call(load_got10k, "train")),
    "got10k-val": ("GOT10k-val", ["GOT10K"], _call(load_got10k, "val")),
    "got10k-test": ("GOT10k-test", ["GOT10K"], _call(load_got10k, "test")),
    "lasot": ("LaSOT", ["LASOT"], _call(load_lasot, "test")),
    "lasot-train": ("LaSOT-train", ["LASOT"], _call(load_lasot, "train")),
    "lasot-full": ("LaSOT-full", ["LASOT"], _call(load_lasot, "full")),
    "uav123": ("UAV123", ["UAV123"], _call(load_uav123, "UAV123")),
    "uav20l": ("UAV20L", ["UAV123"], _call(load_uav123, "UAV20L")),
    **{name.lower(): (name, [], _builtin) for name in ("Builtin", *BUILTIN_VARIANTS)},
}


def available_datasets() -> List[str]:
    """The names ``load_dataset`` accepts (patterns in angle brackets)."""
    return [canonical for canonical, _, _ in _DATASETS.values()] + [
        "VOT<year> (e.g. VOT2018)", "VOT", "json:<path> or <path>.json", "Rot-<name>",
        "Rot<omega>-<name> (e.g. Rot4-OTB100)"]


def parse_rot_prefix(name: str) -> Tuple[Optional[float], str]:
    """``"Rot4-OTB100"`` -> ``(4.0, "OTB100")``, ``"Rot-X"`` -> ``(2.0, "X")``, ``"X"`` -> ``(None, "X")``."""
    match = _ROT_PREFIX.match(name.strip())
    if match is None:
        return None, name.strip()
    return (float(match.group(1)) if match.group(1) else DEFAULT_OMEGA), match.group(2)


def _lookup(name: str) -> Tuple[str, List[str], Callable]:
    lowered = name.lower()
    if lowered.startswith("json:") or lowered.endswith(".json"):
        path = Path(name[5:] if lowered.startswith("json:") else name)
        return path.stem, [], lambda root, n, allow_partial, **o: load_pysot_json(path, root, n, allow_partial, **o)
    vot = _VOT_NAME.match(name)
    if vot:
        families = [name.upper(), "VOT"] if vot.group(1) else ["VOT"]
        return name.upper(), families, lambda root, n, allow_partial, **o: load_vot(
            root, n, allow_partial, family=families[0], **o)
    if lowered not in _DATASETS:
        raise DatasetNotFoundError(f"unknown dataset {name!r}; known: {', '.join(available_datasets())}")
    return _DATASETS[lowered]


def dataset_root(name: str, root=None):
    """The folder ``load_dataset(name, root)`` reads (resolved as the module docstring says), or ``None``."""
    _, families, _ = _lookup(parse_rot_prefix(name)[1])
    return resolve_root(families, root).path if families else root


def _load_base(name: str, root, allow_partial: bool, **options) -> Dataset:
    canonical, families, loader = _lookup(name)
    resolved = resolve_root(families, root) if families else None
    path = resolved.path if resolved else root
    try:
        return loader(path, canonical, allow_partial, **options)
    except DatasetNotFoundError as error:
        if resolved is None or resolved.source == "explicit root":
            raise
        raise DatasetNotFoundError(f"{error} (the root {resolved.path} came from {resolved.source})") from None


def canonical_name(name: str) -> str:
    """The name of the dataset ``load_dataset(name)`` returns, without loading it: the canonical spelling
    (``otb100`` -> ``OTB100``; ``Rot2-OTB100`` and ``rot-otb100`` -> ``Rot-OTB100``; ``Rot4.0-X`` -> ``Rot4-X``)."""
    omega, base = parse_rot_prefix(name)
    canonical = _lookup(base)[0]
    return canonical if omega is None else rot_dataset_name(canonical, omega)


def load_dataset(name: str, root: Optional[str] = None, allow_partial: bool = False, **options) -> Dataset:
    """Load the dataset ``name`` (see the module docstring) from ``root`` or the configured root.

    The root resolves from ``root``, then ``IENTRACK_<FAMILY>_ROOT`` / ``IENTRACK_DATA``, then
    ``datasets/paths.yaml``. ``options`` go to the loader (e.g. ``tiger1_skip_first``, ``sequences`` for OTB).
    The returned dataset's ``name`` is :func:`canonical_name` of ``name``.
    """
    omega, base = parse_rot_prefix(name)
    dataset = _load_base(base, root, allow_partial, **options)
    return dataset if omega is None else rotate_dataset(dataset, omega)
