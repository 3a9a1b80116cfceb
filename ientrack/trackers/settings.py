"""SiamFC's search settings, each with its one default, documented here and nowhere else.

Every SiamFC-family tracker type (``siamfc``, ``effnet_siamfc``, ``siamfc_canonicalized``) declares its
defaults as these with a few changed (the tracker class's ``defaults``), and a tracker config in the zoo
(``ientrack/zoo/*.yaml``) or ``configs/ablations/*.yaml`` writes only the settings that differ from its
type's defaults. pysot's ``config.py`` is the model: one place, a comment per key.
"""
from dataclasses import dataclass, fields, replace

CROP_BACKENDS = ("auto", "cv2", "torch")
SCALE_SEARCHES = ("crops", "templates")
ROTATION_SEARCHES = ("joint", "at_peak")


@dataclass(frozen=True)
class SearchSettings:
    """How a SiamFC tracker crops, scores and follows the target. The defaults are the reference
    hyper-parameters of SiamFC (Bertinetto et al. 2016) with one upright template."""

    # -- crops ----------------------------------------------------------------------------------------
    exemplar_size: int = 127  # template crop side in pixels (AlexNet, total stride 8: 6x6 features)
    instance_size: int = 255  # search crop side in pixels (22x22 features, 17x17 response)
    context: float = 0.5  # context around the target: crop side sqrt((w + p)(h + p)), p = context * (w + h)
    crop_backend: str = "auto"  # cv2 (warpAffine on the CPU), torch (grid_sample on the device), auto (torch on CUDA)
    # -- response -------------------------------------------------------------------------------------
    out_scale: float = 0.001  # factor on the cross-correlation (as the network was trained)
    response_up: int = 16  # the response map is upsampled this many times (bicubic) before the peak is read
    window_influence: float = 0.176  # weight of the cosine (Hanning) window against the normalised response
    # -- scale search ---------------------------------------------------------------------------------
    num_scales: int = 3  # search crops per frame, sizes scale_step ** k about the current size
    scale_step: float = 1.0375  # ratio between neighbouring search scales
    scale_penalty: float = 0.9745  # factor on the peak of every scale but the current one
    scale_lr: float = 0.59  # how far the size moves to the best scale (1: all the way)
    scale_search: str = "crops"  # crops: one search crop per scale (SiamFC); templates: one search crop a frame,
    # the template bank embedded at init at every scale (entry k shows the target scale_step ** k larger), so a
    # frame costs one backbone pass instead of num_scales
    # -- rotation search: a bank of templates turned by evenly spaced angles ----------------------------
    num_rotations: int = 1  # bank entries, every 360 / num_rotations degrees (1: one upright template)
    angle_window: float = 180.0  # entries searched each frame: those within this many degrees of the current angle
    rotation_penalty: float = 1.0  # factor on an entry's peak per bank step from the current angle (1: none)
    angle_lr: float = 1.0  # how far the angle moves to the best rotation (1: all the way)
    rotation_search: str = "joint"  # joint: best scale, rotation and position together; at_peak: see below
    # at_peak: position and scale from the entry nearest the current angle alone, then the rotation from the
    # candidates' responses within one response cell of that peak (a turned template cannot pull the target
    # elsewhere). The two settings below read the rotation at the peak, so they need at_peak.
    angle_interpolation: bool = False  # the angle read between entries: vertex of the parabola through the best and its neighbours
    normalized_rotation_scores: bool = False  # each entry's response divided by its template's feature norm
    # -- a weak match: the score is the peak over the first frame's (the template on its own frame) -------------
    hold_below: float = 0.0  # below this score the state stays (an occluded target is waited for, not followed; 0: never)
    # -- box head (a tracker with box_head_weights): the box regressed at the peak, ientrack/models/box_head.py --
    box_lr: float = 0.5  # how far the size (width and height apart) moves to the box head's (1: all the way)
    box_center_lr: float = 0.5  # how far the centre moves from the response's peak to the box head's box centre

    def check(self, where: str) -> "SearchSettings":
        """These settings, or a ``ValueError`` naming ``where`` and the setting that cannot work."""
        if self.crop_backend not in CROP_BACKENDS:
            raise ValueError(f"{where}: crop_backend must be auto, cv2 or torch, got {self.crop_backend!r}")
        if self.scale_search not in SCALE_SEARCHES:
            raise ValueError(f"{where}: scale_search must be crops or templates, got {self.scale_search!r}")
        if self.rotation_search not in ROTATION_SEARCHES:
            raise ValueError(f"{where}: rotation_search must be joint or at_peak, got {self.rotation_search!r}")
        if (self.angle_interpolation or self.normalized_rotation_scores) and self.rotation_search != "at_peak":
            raise ValueError(f"{where}: angle_interpolation and normalized_rotation_scores read the rotation at "
                             "the peak: they need rotation_search: at_peak")
        if not (0 <= self.box_lr <= 1 and 0 <= self.box_center_lr <= 1):
            raise ValueError(f"{where}: box_lr and box_center_lr must lie in [0, 1], got {self.box_lr}, {self.box_center_lr}")
        if not 0 <= self.hold_below < 1:
            raise ValueError(f"{where}: hold_below must lie in [0, 1), got {self.hold_below}")
        if self.num_rotations < 1:
            raise ValueError(f"{where}: num_rotations must be at least 1, got {self.num_rotations}")
        return self

    def changed(self, where: str, **changes) -> "SearchSettings":
        """These settings with ``changes``; a ``ValueError`` naming ``where`` for a name that is none."""
        unknown = sorted(set(changes) - set(setting_names()))
        if unknown:
            raise ValueError(f"{where}: unknown search setting(s) {', '.join(unknown)}")
        return replace(self, **changes).check(where)


def setting_names() -> tuple:
    """The names of the search settings, in the order above."""
    return tuple(f.name for f in fields(SearchSettings))
