"""Some sequences of a dataset by name (``--sequences A B``, pysot's ``--video``)."""
import difflib
from typing import Iterable

from ientrack.data.errors import DatasetNotFoundError, listing
from ientrack.data.sequence import Dataset


def select_sequences(dataset: Dataset, names: Iterable[str], missing_note: str = "") -> Dataset:
    """The sequences of ``dataset`` named in ``names`` (exactly, else ignoring case), in the dataset's order.

    An unknown name is one :class:`DatasetNotFoundError` line naming it with the closest names of the
    dataset, or all of them when none is close; ``missing_note`` (what the loader left out) is added to it.
    """
    by_lower = {name.lower(): name for name in dataset.names}
    chosen, unknown = set(), []
    for name in names:
        found = name if name in dataset.names else by_lower.get(name.lower())
        if found is None:
            unknown.append(name)
        else:
            chosen.add(found)
    if unknown:
        close = {c for name in unknown for c in difflib.get_close_matches(name, dataset.names, n=3, cutoff=0.6)}
        known = (f"closest: {', '.join(sorted(close))}" if close
                 else f"its {len(dataset)} sequence{'s' * (len(dataset) != 1)}: {listing(dataset.names)}")
        note = f" ({missing_note})" if missing_note else ""
        raise DatasetNotFoundError(
            f"{dataset.name} has no sequence {', '.join(map(repr, unknown))}{note}; {known}")
    return Dataset(dataset.name, [seq for seq in dataset if seq.name in chosen])
