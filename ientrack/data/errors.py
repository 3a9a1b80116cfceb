"""Errors of the dataset loaders: a dataset that is missing or incomplete, a ground-truth file that cannot be
parsed. Each message names the files at fault and tells the user where the data should go."""
import os
import warnings
from typing import Callable, List, Optional, Sequence

from ientrack.data.roots import DATA_ENV, PATHS_FILE, env_var_name

MAX_LISTED = 20


class DatasetNotFoundError(ValueError):
    """A dataset (or some of its sequences) is not where it was looked for."""


class PartialDatasetWarning(UserWarning):
    """Some sequences of a dataset are missing; the others were loaded (``allow_partial``). ``missing``:
    what is missing, one entry per sequence."""

    def __init__(self, message: str, missing: Sequence[str] = ()):
        super().__init__(message)
        self.missing = list(missing)


class AnnotationError(ValueError):
    """A ground-truth or annotation file that cannot be parsed; the message names the file and the line."""


def listing(items: Sequence[str], limit: int = MAX_LISTED) -> str:
    """``a, b, c`` with at most ``limit`` items, then ``... and N more``."""
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} ... and {len(items) - limit} more"


def setup_hint(family: str) -> str:
    """How to tell ientrack where the dataset family ``family`` (e.g. ``OTB``) lives."""
    if family == "JSON":
        return "pass --dataset-root DIR (root=DIR), the folder the JSON's image paths are relative to"
    return (f"point ientrack at the dataset: pass --dataset-root DIR (root=DIR), set "
            f"{env_var_name(family)} or {DATA_ENV} (a folder holding one subfolder per dataset), or set "
            f"'{family}' in {PATHS_FILE}; see datasets/README.md for the expected layout")


def missing_root_error(dataset: str, family: str, root) -> DatasetNotFoundError:
    """The error for a dataset root that is not configured or does not exist."""
    where = f"{root} does not exist" if root is not None else "no root is configured"
    return DatasetNotFoundError(f"dataset {dataset} not found: {where}; {setup_hint(family)}")


def handle_missing(dataset: str, family: str, root, missing: List[str], found: int, allow_partial: bool):
    """Raise ONE error listing ``missing`` (sequence folders or files), or with ``allow_partial`` warn.

    ``found`` is the number of sequences that are complete; a partial load with none found still raises.
    """
    if not missing:
        return
    what = f"{len(missing)} of {len(missing) + found} sequences of {dataset} are missing or incomplete under {root}"
    if allow_partial and found > 0:
        warnings.warn(PartialDatasetWarning(f"{what}; loading the {found} present (allow_partial): {listing(missing)}",
                                            missing), stacklevel=3)
        return
    hint = "" if found == 0 else " Pass allow_partial=True (--allow-partial) to load only the sequences present."
    raise DatasetNotFoundError(f"{what}: {listing(missing)}.{hint} To fix: {setup_hint(family)}")


def present_sequences(dataset: str, family: str, root, names: List[str],
                      lacking_of: Callable[[str], Optional[str]], allow_partial: bool) -> List[str]:
    """The sequences of ``names`` that are complete under ``root``.

    ``lacking_of(name)`` says what a sequence lacks (or None); the incomplete ones go through
    :func:`handle_missing` (one error listing them all, or a warning with ``allow_partial``).
    """
    present, partly_there, absent = [], [], []
    for name in names:
        lacking = lacking_of(name)
        if not lacking:
            present.append(name)
        elif root is not None and os.path.isdir(os.path.join(str(root), name)):
            partly_there.append(lacking)
        else:
            absent.append(lacking)
    # a sequence folder with a frame missing is listed first, not hidden in "... and 80 more" behind the
    # sequences never downloaded
    missing = partly_there + absent
    if not names:
        missing.append(f"every sequence (no sequence list and no sequence folders found in {root})")
    handle_missing(dataset, family, root, missing, len(present), allow_partial)
    return present
