"""Which frame each ground-truth row belongs to: row ``i`` is the frame numbered ``first + i``, the number read
from the frame's file name (``00000007.jpg``, ``img0007.png``), never its place in a folder listing, so a frame
missing from a folder can never shift the rows after it onto the wrong frames."""
import os
import re
import warnings
from typing import Dict, List, Optional

from ientrack.data.errors import AnnotationError, IncompleteSequence, listing
from ientrack.data.gt_files import list_images

_LAST_NUMBER = re.compile(r"(\d+)\D*$")


def numbered_frames(folder: str) -> Dict[int, str]:
    """``{frame number: path}`` of the images directly inside ``folder``.

    Raises :class:`AnnotationError` for an image whose name carries no number, or two images with one number
    (``0007.jpg`` and ``07.png``): which of them a row belongs to cannot be known."""
    frames: Dict[int, str] = {}
    for path in list_images(folder):
        name = os.path.basename(path)
        match = _LAST_NUMBER.search(os.path.splitext(name)[0])
        if match is None:
            raise AnnotationError(f"{path}: a frame's name must carry its number (0001.jpg, img0001.png) so that "
                                  "each ground-truth row finds its frame")
        number = int(match.group(1))
        if number in frames:
            raise AnnotationError(f"{folder}: {os.path.basename(frames[number])} and {name} both claim frame "
                                  f"number {number}")
        frames[number] = path
    return frames


def _name_of(number: int, like: str) -> str:
    """The file name frame ``number`` would have, spelt like its neighbour ``like`` (digits, prefix, extension)."""
    match = _LAST_NUMBER.search(os.path.splitext(like)[0])
    digits = match.group(1)
    start, end = match.span(1)
    return f"{like[:start]}{number:0{len(digits)}d}{like[end:]}"


def frames_for_rows(folder: str, n_rows: Optional[int], gt_path: str, first: Optional[int] = 1,
                    sequence: str = "") -> List[str]:
    """The paths of the frames the ``n_rows`` rows of ``gt_path`` belong to: frames ``first``, ``first + 1``...

    ``first=None``: 0 where a frame is numbered 0, else 1 (a user's own folder may count either way); more rows
    than frames numbered from 1 is then an error, as frame 0 may be the one missing; ``n_rows=None``:
    every frame up to the highest number (a sequence with only its first box published). A frame missing
    among them raises :class:`IncompleteSequence` naming the missing files (``sequence`` names the sequence
    in that message). Rows and frames that differ in number at the end: the shorter wins,
    with a warning naming ``gt_path`` (the policy of :func:`~ientrack.data.gt_files.matched_length`).
    """
    frames = numbered_frames(folder)
    where = os.path.basename(os.path.normpath(folder))
    if not frames:
        raise IncompleteSequence(f"{sequence} (no frames in {where}/)")
    last = max(frames)
    if first is None:
        first = 0 if 0 in frames else 1
        if first == 1 and n_rows is not None and n_rows > last:  # frames 1..last for more rows than that:
            like = os.path.basename(frames[last])  # counted from 0 with frame 0 missing, or from 1, short?
            raise IncompleteSequence(f"{sequence} ({n_rows} ground-truth rows but frames numbered 1 to {last} in "
                                     f"{where}/: {_name_of(0, like)} or {_name_of(last + 1, like)} is missing)")
    wanted = last - first + 1 if n_rows is None else n_rows
    kept = min(wanted, last - first + 1)
    absent = [n for n in range(first, first + kept) if n not in frames]
    if absent:
        like = frames[min(frames, key=lambda n: abs(n - absent[0]))]
        names = [_name_of(n, os.path.basename(like)) for n in absent]
        raise IncompleteSequence(f"{sequence} ({len(absent)} frame{'s' if len(absent) > 1 else ''} missing in "
                                 f"{where}/: {listing(names, 5)})")
    if kept != wanted or len(frames) != kept:
        warnings.warn(f"{gt_path}: {wanted} ground-truth rows but {len(frames)} frames (numbered from {first}); "
                      f"using the first {kept}", stacklevel=2)
    return [frames[n] for n in range(first, first + kept)]
