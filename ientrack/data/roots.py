"""Where each dataset family lives on disk.

A root resolves, first match wins, from:
1. an explicit root (``--dataset-root`` / ``root=``);
2. the environment: ``IENTRACK_<FAMILY>_ROOT`` (e.g. ``IENTRACK_OTB_ROOT``), then ``IENTRACK_DATA``, a
   folder holding one subfolder per dataset (``OTB100/``, ``GOT-10k/``, ...), where such a subfolder exists;
3. the paths file (family -> root; relative paths are relative to the file's folder): ``$IENTRACK_PATHS_FILE``,
   else ``datasets/paths.yaml`` of the source checkout the package runs from (``pip install -e .``), else
   ``datasets/paths.yaml`` under the current folder (an installed package has no checkout).
"""
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import yaml

DATA_ENV = "IENTRACK_DATA"
PATHS_FILE_ENV = "IENTRACK_PATHS_FILE"


def default_paths_file() -> Path:
    """The paths file the module docstring names (it need not exist)."""
    if os.environ.get(PATHS_FILE_ENV):
        return Path(os.path.expanduser(os.environ[PATHS_FILE_ENV]))
    checkout = Path(__file__).resolve().parents[2] / "datasets" / "paths.yaml"
    return checkout if checkout.is_file() else Path("datasets") / "paths.yaml"


PATHS_FILE = default_paths_file()

# subfolders of $IENTRACK_DATA tried for each family, in order
DATA_SUBFOLDERS: Dict[str, List[str]] = {
    "OTB": ["OTB100", "OTB2015", "OTB"],
    "GOT10K": ["GOT-10k", "GOT10k", "got10k"],
    "VOT": ["VOT"],
    "LASOT": ["LaSOT", "LaSOTBenchmark", "lasot"],
    "UAV123": ["UAV123", "Dataset_UAV123/UAV123"],
}


@dataclass
class DatasetRoot:
    """A resolved root and where it came from (``explicit``, an environment variable, the paths file)."""

    path: Optional[Path]
    source: str


def env_var_name(family: str) -> str:
    """``IENTRACK_<FAMILY>_ROOT``, e.g. ``IENTRACK_OTB_ROOT``, ``IENTRACK_VOT2018_ROOT``."""
    return f"IENTRACK_{family.upper().replace('-', '')}_ROOT"


def read_paths_file(paths_file: Path = PATHS_FILE) -> Dict[str, Path]:
    """The ``family -> root`` mapping of the paths file (keys upper-cased), empty where the file is absent."""
    if not Path(paths_file).is_file():
        return {}
    with open(paths_file, "r", encoding="utf-8") as f:
        content = yaml.safe_load(f) or {}
    if not isinstance(content, dict):
        raise ValueError(f"{paths_file}: expected a mapping of dataset family to root folder")
    base = Path(paths_file).resolve().parent
    return {str(k).upper(): base / os.path.expanduser(str(v)) for k, v in content.items() if v}


def _data_subfolders(family: str) -> List[str]:
    return DATA_SUBFOLDERS.get(family.upper(), [family])


def resolve_root(families: List[str], explicit=None, paths_file: Path = PATHS_FILE) -> DatasetRoot:
    """Resolve the root of a dataset known under ``families`` (most specific first, e.g. ``["VOT2018", "VOT"]``).

    Returns ``DatasetRoot(None, "unset")`` when nothing is configured; the loader then reports where to put it.
    """
    if explicit is not None:
        return DatasetRoot(Path(os.path.expanduser(str(explicit))), "explicit root")
    for family in families:
        value = os.environ.get(env_var_name(family))
        if value:
            return DatasetRoot(Path(os.path.expanduser(value)), env_var_name(family))
    data = os.environ.get(DATA_ENV)
    if data:
        for family in families:
            for sub in _data_subfolders(family):
                candidate = Path(os.path.expanduser(data)) / sub
                if candidate.is_dir():
                    return DatasetRoot(candidate, f"{DATA_ENV}/{sub}")
    configured = read_paths_file(paths_file)
    for family in families:
        if family.upper() in configured:
            return DatasetRoot(configured[family.upper()], f"{paths_file} ({family})")
    return DatasetRoot(None, "unset")
