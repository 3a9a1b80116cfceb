"""The dataset contract: a ``Sequence`` of lazily loaded RGB frames with its ground truth."""
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence as Seq

import numpy as np

from ientrack.data.frames import read_frame
from ientrack.geometry import polygon_to_box


@dataclass
class Sequence:
    """One tracking sequence.

    ``gt`` holds ``(x, y, w, h)`` boxes in the ground-truth file's own coordinates (``one_based`` says
    whether those are OTB-style 1-based pixels). ``polygons`` (``N x 8``) and ``angles`` (degrees,
    relative to frame 0) are present where the dataset defines them (VOT, the Rot protocol, the built-in
    benchmark). Frames load lazily through ``frame(i)`` as RGB ``uint8`` ``H x W x 3`` arrays.
    ``gt`` may be ``None`` for sequences without public ground truth beyond frame 0 (GOT-10k test):
    then ``init_box`` holds the first box.
    """

    name: str
    frame_paths: List[str]
    gt: Optional[np.ndarray]
    attributes: List[str] = field(default_factory=list)
    polygons: Optional[np.ndarray] = None
    angles: Optional[np.ndarray] = None
    one_based: bool = False
    init_box: Optional[np.ndarray] = None
    loader: Optional[Callable[[int], np.ndarray]] = None

    def __post_init__(self):
        if self.gt is not None:
            self.gt = np.asarray(self.gt, dtype=np.float64).reshape(-1, 4)
        if self.polygons is not None:
            self.polygons = np.asarray(self.polygons, dtype=np.float64).reshape(-1, 8)
            if self.gt is None:
                self.gt = polygon_to_box(self.polygons)
        if self.init_box is None and self.gt is not None:
            self.init_box = self.gt[0].copy()

    def __len__(self):
        return len(self.frame_paths)

    def frame(self, i: int) -> np.ndarray:
        """Frame ``i`` as RGB ``uint8`` (grayscale and 16-bit images are converted)."""
        if self.loader is not None:
            return self.loader(i)
        return read_frame(self.frame_paths[i])

    def frames(self):
        for i in range(len(self)):
            yield self.frame(i)


class Dataset:
    """An indexable, named collection of sequences (indexable by position or by sequence name)."""

    def __init__(self, name: str, sequences: Seq[Sequence]):
        self.name = name
        self.sequences = list(sequences)
        self._by_name = {s.name: s for s in self.sequences}

    def __len__(self):
        return len(self.sequences)

    def __iter__(self):
        return iter(self.sequences)

    def __getitem__(self, key):
        if isinstance(key, str):
            if key not in self._by_name:
                raise KeyError(f"dataset {self.name} has no sequence named {key!r}")
            return self._by_name[key]
        return self.sequences[key]

    @property
    def names(self):
        return [s.name for s in self.sequences]
