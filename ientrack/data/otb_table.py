"""The OTB benchmark as the official toolkit defines it: all 100 sequences of OTB-2015 (TB-100) with their
folders, frame ranges, image-name digits, ground-truth files and attributes, and the OTB-2013 / TB-50 subsets.

Quirks this table carries (the official toolkit's ``configSeqs``):
- 98 folders make 100 sequences: Jogging and Skating2 hold two targets (``groundtruth_rect.1.txt`` and
  ``.2.txt``, sequences ``Jogging.1`` / ``Jogging.2``); Human4's target is its ``.2`` file.
- David uses frames 300-770; Football1, Freeman3, Freeman4 and Diving only their first 74 / 460 / 283 / 215
  frames; the images of BlurCar1 / BlurCar3 / BlurCar4 start at 247 / 3 / 18; Board has 5-digit names.
- Tiger1: the toolkit skips the first 5 frames (and ground-truth rows); ``official_skip`` records it.

Attributes follow the OTB-2015 (TPAMI) annotation; their counts over the 100 sequences are the paper's
(IV 38, SV 64, OCC 49, DEF 44, MB 29, FM 39, IPR 51, OPR 63, OV 14, BC 31, LR 9). OTB-2013 uses the same
per-sequence attributes here.
"""
from dataclasses import dataclass
from typing import Dict, Tuple

ATTRIBUTES = ("IV", "SV", "OCC", "DEF", "MB", "FM", "IPR", "OPR", "OV", "BC", "LR")
ATTRIBUTE_NAMES = {
    "IV": "illumination variation", "SV": "scale variation", "OCC": "occlusion", "DEF": "deformation",
    "MB": "motion blur", "FM": "fast motion", "IPR": "in-plane rotation", "OPR": "out-of-plane rotation",
    "OV": "out of view", "BC": "background clutters", "LR": "low resolution",
}


@dataclass(frozen=True)
class OTBEntry:
    """One OTB sequence: frames ``img/<first>.jpg .. img/<last>.jpg`` (``digits`` wide) of ``folder``,
    ground truth in ``folder/gt_file`` (row 0 is frame ``first``)."""

    name: str
    folder: str
    first: int
    last: int
    attributes: Tuple[str, ...]
    digits: int = 4
    gt_file: str = "groundtruth_rect.txt"
    official_skip: int = 0

    @property
    def length(self) -> int:
        """Number of frames (and ground-truth rows) from ``first`` to ``last``."""
        return self.last - self.first + 1

    def frame_name(self, number: int) -> str:
        return f"{number:0{self.digits}d}.jpg"


def _entry(name, first, last, attributes, folder=None, **quirks) -> OTBEntry:
    return OTBEntry(name, folder or name, first, last, tuple(attributes.split()), **quirks)


OTB100_TABLE: Tuple[OTBEntry, ...] = (
    _entry("Basketball", 1, 725, "IV OCC DEF OPR BC"),
    _entry("Biker", 1, 142, "SV OCC MB FM OPR OV LR"),
    _entry("Bird1", 1, 408, "DEF FM OV"),
    _entry("Bird2", 1, 99, "OCC DEF FM IPR OPR"),
    _entry("BlurBody", 1, 334, "SV DEF MB FM IPR"),
    _entry("BlurCar1", 247, 988, "MB FM"),
    _entry("BlurCar2", 1, 585, "SV MB FM"),
    _entry("BlurCar3", 3, 359, "MB FM"),
    _entry("BlurCar4", 18, 397, "MB FM"),
    _entry("BlurFace", 1, 493, "MB FM IPR"),
    _entry("BlurOwl", 1, 631, "SV MB FM IPR"),
    _entry("Board", 1, 698, "SV MB FM OPR OV BC", digits=5),
    _entry("Bolt", 1, 350, "OCC DEF IPR OPR"),
    _entry("Bolt2", 1, 293, "DEF BC"),
    _entry("Box", 1, 1161, "IV SV OCC MB IPR OPR OV BC"),
    _entry("Boy", 1, 602, "SV MB FM IPR OPR"),
    _entry("Car1", 1, 1020, "IV SV BC LR"),
    _entry("Car2", 1, 913, "IV BC"),
    _entry("Car24", 1, 3059, "IV SV BC"),
    _entry("Car4", 1, 659, "IV SV"),
    _entry("CarDark", 1, 393, "IV BC"),
    _entry("CarScale", 1, 252, "SV OCC FM IPR OPR"),
    _entry("ClifBar", 1, 472, "SV OCC MB FM IPR OV BC"),
    _entry("Coke", 1, 291, "IV OCC FM IPR OPR"),
    _entry("Couple", 1, 140, "SV DEF FM OPR BC"),
    _entry("Coupon", 1, 327, "OCC BC"),
    _entry("Crossing", 1, 120, "SV DEF BC"),
    _entry("Crowds", 1, 347, "IV DEF BC"),
    _entry("Dancer", 1, 225, "SV DEF IPR OPR"),
    _entry("Dancer2", 1, 150, "DEF"),
    _entry("David", 300, 770, "IV SV OCC DEF MB IPR OPR"),
    _entry("David2", 1, 537, "IPR OPR"),
    _entry("David3", 1, 252, "OCC DEF OPR BC"),
    _entry("Deer", 1, 71, "MB FM IPR BC"),
    _entry("Diving", 1, 215, "SV DEF IPR"),
    _entry("Dog", 1, 127, "SV DEF OPR"),
    _entry("Dog1", 1, 1350, "SV IPR OPR"),
    _entry("Doll", 1, 3872, "IV SV OCC IPR OPR"),
    _entry("DragonBaby", 1, 113, "SV OCC MB FM IPR OPR OV"),
    _entry("Dudek", 1, 1145, "SV OCC DEF FM IPR OPR OV BC"),
    _entry("FaceOcc1", 1, 892, "OCC"),
    _entry("FaceOcc2", 1, 812, "IV OCC IPR OPR"),
    _entry("Fish", 1, 476, "IV"),
    _entry("FleetFace", 1, 707, "SV DEF MB FM IPR OPR"),
    _entry("Football", 1, 362, "OCC IPR OPR BC"),
    _entry("Football1", 1, 74, "IPR OPR BC"),
    _entry("Freeman1", 1, 326, "SV IPR OPR"),
    _entry("Freeman3", 1, 460, "SV IPR OPR LR"),
    _entry("Freeman4", 1, 283, "SV OCC IPR OPR LR"),
    _entry("Girl", 1, 500, "SV OCC IPR OPR"),
    _entry("Girl2", 1, 1500, "SV OCC DEF MB OPR"),
    _entry("Gym", 1, 767, "SV DEF IPR OPR"),
    _entry("Human2", 1, 1128, "IV SV MB OPR"),
    _entry("Human3", 1, 1698, "SV OCC DEF OPR BC"),
    _entry("Human4", 1, 667, "IV SV OCC DEF", gt_file="groundtruth_rect.2.txt"),
    _entry("Human5", 1, 713, "SV OCC DEF"),
    _entry("Human6", 1, 792, "SV OCC DEF FM OPR OV"),
    _entry("Human7", 1, 250, "IV SV OCC DEF MB FM"),
    _entry("Human8", 1, 128, "IV SV DEF"),
    _entry("Human9", 1, 305, "IV SV DEF MB FM"),
    _entry("Ironman", 1, 166, "IV SV OCC MB FM IPR OPR OV BC"),
    _entry("Jogging.1", 1, 307, "OCC DEF OPR", folder="Jogging", gt_file="groundtruth_rect.1.txt"),
    _entry("Jogging.2", 1, 307, "OCC DEF OPR", folder="Jogging", gt_file="groundtruth_rect.2.txt"),
    _entry("Jump", 1, 122, "SV OCC DEF MB IPR OPR"),
    _entry("Jumping", 1, 313, "MB FM"),
    _entry("KiteSurf", 1, 84, "IV OCC IPR OPR"),
    _entry("Lemming", 1, 1336, "IV SV OCC FM OPR OV"),
    _entry("Liquor", 1, 1741, "IV SV OCC MB FM OPR OV BC"),
    _entry("Man", 1, 134, "IV"),
    _entry("Matrix", 1, 100, "IV SV OCC FM IPR OPR BC"),
    _entry("Mhyang", 1, 1490, "IV DEF OPR BC"),
    _entry("MotorRolling", 1, 164, "IV SV MB FM IPR BC"),
    _entry("MountainBike", 1, 228, "IPR OPR BC"),
    _entry("Panda", 1, 1000, "SV OCC DEF IPR OPR OV LR"),
    _entry("RedTeam", 1, 1918, "SV OCC IPR OPR LR"),
    _entry("Rubik", 1, 1997, "SV OCC IPR OPR"),
    _entry("Shaking", 1, 365, "IV SV IPR OPR BC"),
    _entry("Singer1", 1, 351, "IV SV OCC OPR"),
    _entry("Singer2", 1, 366, "IV DEF IPR OPR BC"),
    _entry("Skater", 1, 160, "SV DEF IPR OPR"),
    _entry("Skater2", 1, 435, "SV DEF FM IPR OPR"),
    _entry("Skating1", 1, 400, "IV SV OCC DEF OPR BC"),
    _entry("Skating2.1", 1, 473, "SV OCC DEF FM OPR", folder="Skating2", gt_file="groundtruth_rect.1.txt"),
    _entry("Skating2.2", 1, 473, "SV OCC DEF FM OPR", folder="Skating2", gt_file="groundtruth_rect.2.txt"),
    _entry("Skiing", 1, 81, "IV SV DEF IPR OPR LR"),
    _entry("Soccer", 1, 392, "IV SV OCC MB FM IPR OPR BC"),
    _entry("Subway", 1, 175, "OCC DEF BC"),
    _entry("Surfer", 1, 376, "SV FM IPR OPR LR"),
    _entry("Suv", 1, 945, "OCC IPR OV"),
    _entry("Sylvester", 1, 1345, "IV IPR OPR"),
    _entry("Tiger1", 1, 354, "IV OCC DEF MB FM IPR OPR", official_skip=5),
    _entry("Tiger2", 1, 365, "IV OCC DEF MB FM IPR OPR OV"),
    _entry("Toy", 1, 271, "SV FM IPR OPR"),
    _entry("Trans", 1, 124, "IV SV OCC DEF"),
    _entry("Trellis", 1, 569, "IV SV IPR OPR BC"),
    _entry("Twinnings", 1, 472, "SV OPR"),
    _entry("Vase", 1, 271, "SV FM IPR"),
    _entry("Walking", 1, 412, "SV OCC DEF LR"),
    _entry("Walking2", 1, 500, "SV OCC"),
    _entry("Woman", 1, 597, "IV SV OCC DEF MB FM OPR"),
)

OTB100: Dict[str, OTBEntry] = {e.name: e for e in OTB100_TABLE}

# the 50 videos of the CVPR 2013 benchmark; Jogging holds two targets, so 51 sequences
_OTB2013_FOLDERS = (
    "Basketball Bolt Boy Car4 CarDark CarScale Coke Couple Crossing David David2 David3 Deer Dog1 Doll Dudek "
    "FaceOcc1 FaceOcc2 Fish FleetFace Football Football1 Freeman1 Freeman3 Freeman4 Girl Ironman Jogging "
    "Jumping Lemming Liquor Matrix Mhyang MotorRolling MountainBike Shaking Singer1 Singer2 Skating1 Skiing "
    "Soccer Subway Suv Sylvester Tiger1 Tiger2 Trellis Walking Walking2 Woman").split()

# TB-50, the 50 hardest sequences of OTB-2015 (49 folders; Skating2 holds two targets)
_OTB50_FOLDERS = (
    "Basketball Biker Bird1 BlurBody BlurCar2 BlurFace BlurOwl Bolt Box Car1 Car4 CarDark CarScale ClifBar "
    "Couple Crowds David Deer Diving DragonBaby Dudek Football Freeman4 Girl Human3 Human4 Human6 Human9 "
    "Ironman Jump Jumping Liquor Matrix MotorRolling Panda RedTeam Shaking Singer2 Skating1 Skating2 Skiing "
    "Soccer Surfer Sylvester Tiger2 Trellis Walking Walking2 Woman").split()


def _names_in(folders) -> Tuple[str, ...]:
    return tuple(e.name for e in OTB100_TABLE if e.folder in set(folders))


VERSIONS: Dict[str, Tuple[str, ...]] = {
    "OTB100": tuple(OTB100),
    "OTB2013": _names_in(_OTB2013_FOLDERS),
    "OTB50": _names_in(_OTB50_FOLDERS),
}


def _aliases(entry: OTBEntry):
    yield entry.name
    target = entry.name.split(".")[1] if "." in entry.name else entry.gt_file.split(".")[1]
    if target.isdigit():  # Jogging.1, Skating2.2, Human4 (target 2)
        for sep in (".", "-", "_", ""):
            yield f"{entry.folder}{sep}{target}"


_ALIASES: Dict[str, str] = {a.lower(): e.name for e in OTB100_TABLE for a in _aliases(e)}


def resolve_otb_name(name: str) -> str:
    """The table name of an OTB sequence from any common spelling, case-insensitive.

    ``Jogging.1``, ``Jogging-1``, ``jogging_1`` and ``Jogging1`` all give ``Jogging.1``; ``human4_2`` gives
    ``Human4``. A two-target folder name alone (``Jogging``) is ambiguous and raises, naming both targets.
    """
    key = name.strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    targets = [e.name for e in OTB100_TABLE if e.folder.lower() == key]
    if targets:
        raise KeyError(f"OTB sequence {name!r} is ambiguous: it holds the targets {', '.join(targets)}")
    raise KeyError(f"unknown OTB sequence {name!r}; known: {', '.join(OTB100)}")
