"""Errors of the dataset loaders: a dataset that is missing or incomplete, a ground-truth file that cannot be
parsed. Each message names the files at fault and tells the user where the data should go."""
import os
import warnings
from typing import Callable, List, Optional, Sequence

from ientrack.data.roots import DATA_ENV, PATHS_FILE, env_var_name
from ientrack.geometry import init_box_problem

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
    if family == "FOLDER":
        return "each sequence is a subfolder <name>/ holding img/ and groundtruth_rect.txt (see datasets/README.md)"
    return (f"point ientrack at the dataset: pass --dataset-root DIR (root=DIR), set "
            f"{env_var_name(family)} or {DATA_ENV} (a folder holding one subfolder per dataset), or set "
            f"'{family}' in {PATHS_FILE}; see datasets/README.md for the expected layout")


def missing_root_error(dataset: str, family: str, root) -> DatasetNotFoundError:
    """The error for a dataset root that is not configured or does not exist."""
    where = f"{root} does not exist" if root is not None else "no root is configured"
    return DatasetNotFoundError(f"dataset {dataset} not found: {where}; {setup_hint(family)}")


class IncompleteSequence(Exception):
    """Raised by a loader's per-sequence function: the message says what the sequence lacks or what is
    wrong with it (``seq1 (1 frame missing in seq1/: 00000006.jpg)``)."""


def required(path: str, sequence: str, shown: str, folder: bool = False) -> str:
    """``path``, or :class:`IncompleteSequence` ``<sequence> (<shown>)`` where that file (or ``folder``) is absent."""
    if not (os.path.isdir(path) if folder else os.path.isfile(path)):
        raise IncompleteSequence(f"{sequence} ({shown})")
    return path


def handle_missing(dataset: str, family: str, root, missing: List[str], found: int, allow_partial: bool,
                   absent: bool = True):
    """Raise ONE error listing ``missing`` (sequence folders or files), or with ``allow_partial`` warn.

    ``found`` is the number of sequences that are complete; a partial load with none found still raises.
    ``absent``: some of ``missing`` were never downloaded, so the error says where the data should go.
    """
    if not missing:
        return
    what = f"{len(missing)} of {len(missing) + found} sequences of {dataset} are missing or incomplete under {root}"
    if allow_partial and found > 0:
        warnings.warn(PartialDatasetWarning(f"{what}; loading the {found} present (allow_partial): {listing(missing)}",
                                            missing), stacklevel=3)
        return
    hint = "" if found == 0 else " Pass allow_partial=True (--allow-partial) to load only the sequences present."
    fix = f" To fix: {setup_hint(family)}" if absent else ""
    raise DatasetNotFoundError(f"{what}: {listing(missing)}.{hint}{fix}")


def load_present(dataset: str, family: str, root, names: List[str], load_one: Callable[[str], "Sequence"],
                 allow_partial: bool, folder_of: Optional[Callable[[str], str]] = None) -> list:
    """The sequences ``load_one(name)`` returns for ``names``, each with a usable initial box.

    ``load_one`` raises :class:`IncompleteSequence` saying what a sequence lacks; those, and sequences whose
    first box no tracker can start from, go through :func:`handle_missing` (one error listing them all, or a
    warning with ``allow_partial``). ``folder_of(name)`` is a sequence's folder (default ``root/name``): where it
    exists, the sequence is listed first, as partly there.
    """
    folder_of = folder_of or (lambda name: os.path.join(str(root), name))
    loaded, partly_there, absent = [], [], []
    for name in names:
        try:
            sequence = load_one(name)
        except IncompleteSequence as lacking:
            there = root is not None and os.path.isdir(folder_of(name))
            (partly_there if there else absent).append(str(lacking))
            continue
        problem = init_box_problem(sequence.init_box)
        if problem:
            partly_there.append(f"{name} (the initial box {problem})")
        else:
            loaded.append(sequence)
    # a sequence folder with a frame missing is listed first, not hidden in "... and 80 more" behind the
    # sequences never downloaded
    missing = partly_there + absent
    if not names:
        absent.append(f"every sequence (no sequence list and no sequence folders found in {root})")
        missing = absent
    handle_missing(dataset, family, root, missing, len(loaded), allow_partial, absent=bool(absent))
    return loaded


def present_sequences(dataset: str, family: str, root, names: List[str],
                      lacking_of: Callable[[str], Optional[str]], load: Callable[[str], "Sequence"],
                      allow_partial: bool, folder_of: Optional[Callable[[str], str]] = None) -> list:
    """:func:`load_present` for loaders that tell what a sequence lacks (``lacking_of(name)``, or None)
    before loading it with ``load(name)``."""
    def checked(name):
        lacking = lacking_of(name)
        if lacking:
            raise IncompleteSequence(lacking)
        return load(name)
    return load_present(dataset, family, root, names, checked, allow_partial, folder_of)
