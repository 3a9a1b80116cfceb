"""OTB-2013 / OTB-50 / OTB-100 (OTB-2015) from the official folder layout ``<root>/<Folder>/img/0001.jpg`` and
``<root>/<Folder>/groundtruth_rect[.N].txt``, exact about the benchmark's quirks (see ``otb_table``)."""
import os
from typing import Iterable, Optional, Tuple

from ientrack.data.errors import listing, missing_root_error, present_sequences
from ientrack.data.gt_files import matched_length, read_boxes
from ientrack.data.otb_table import OTB100, VERSIONS, OTBEntry, resolve_otb_name
from ientrack.data.sequence import Dataset, Sequence

VERSION_ALIASES = {"OTB100": "OTB100", "OTB2015": "OTB100", "TB100": "OTB100", "OTB2013": "OTB2013",
                   "OTB50": "OTB50", "TB50": "OTB50"}


def _missing_parts(root: str, entry: OTBEntry) -> Optional[str]:
    """What ``entry`` lacks under ``root`` (its folder, img/ folder, ground-truth file or frames), or None."""
    folder = os.path.join(root, entry.folder)
    if not os.path.isdir(folder):
        return f"{entry.name} (folder {entry.folder}/)"
    img = os.path.join(folder, "img")
    if not os.path.isdir(img):
        return f"{entry.name} (frames folder {entry.folder}/img/)"
    lacking = []
    if not os.path.isfile(os.path.join(folder, entry.gt_file)):
        lacking.append(f"ground truth {entry.folder}/{entry.gt_file}")
    present = set(os.listdir(img))
    absent = [entry.frame_name(i) for i in range(entry.first, entry.last + 1) if entry.frame_name(i) not in present]
    if absent:
        lacking.append(f"{len(absent)} frames in {entry.folder}/img/: {listing(absent, 3)}")
    return f"{entry.name} ({'; '.join(lacking)})" if lacking else None


def load_otb_sequence(root: str, entry: OTBEntry, tiger1_skip_first: bool = True) -> Sequence:
    """One OTB sequence (frames checked to exist by the caller); a length mismatch keeps the shorter, warning."""
    gt_path = os.path.join(root, entry.folder, entry.gt_file)
    gt = read_boxes(gt_path)
    n = matched_length(len(gt), entry.length, gt_path)
    skip = entry.official_skip if tiger1_skip_first else 0
    numbers = range(entry.first + skip, entry.first + n)
    frames = [os.path.join(root, entry.folder, "img", entry.frame_name(i)) for i in numbers]
    return Sequence(name=entry.name, frame_paths=frames, gt=gt[skip:n], attributes=list(entry.attributes),
                    one_based=True)


def load_otb(root, version: str = "OTB100", allow_partial: bool = False, tiger1_skip_first: bool = True,
             sequences: Optional[Iterable[str]] = None, name: Optional[str] = None) -> Dataset:
    """Load OTB ``version`` (``OTB100`` = ``OTB2015``, ``OTB2013`` (51 sequences), ``OTB50``) from ``root``.

    ``sequences`` restricts the load to some sequences (any common spelling, see ``resolve_otb_name``).
    Missing or incomplete sequences raise one ``DatasetNotFoundError`` listing them, unless ``allow_partial``
    (then the rest loads with a warning). ``tiger1_skip_first`` drops Tiger1's first 5 frames as the official
    toolkit does. Frames are not read.
    """
    key = VERSION_ALIASES.get(version.upper().replace("-", ""))
    if key is None:
        raise ValueError(f"unknown OTB version {version!r}; known: {', '.join(VERSION_ALIASES)}")
    name = name or version
    if root is None or not os.path.isdir(root):
        raise missing_root_error(name, "OTB", root)
    root = str(root)
    wanted: Tuple[str, ...] = VERSIONS[key]
    if sequences is not None:
        chosen = {resolve_otb_name(s) for s in sequences}
        wanted = tuple(s for s in wanted if s in chosen)
    return Dataset(name, present_sequences(name, "OTB", root, list(wanted), lambda s: _missing_parts(root, OTB100[s]),
                                           lambda s: load_otb_sequence(root, OTB100[s], tiger1_skip_first),
                                           allow_partial))
