"""Every training setting and its one default, by task (pysot's ``config.py`` in dataclasses).

The words are the same in every task: ``batch_size`` (items per step and process), ``save_every`` (steps
between writes of the resumable state), ``seed``, ``workers``, ``epochs`` (or ``steps`` where the data
are drawn at random), ``lr``. Where a run happens (``device``, default ``auto``: CUDA where there is one),
mixed precision (``amp``) and resume are options of the run, not settings. A tracker's geometry
(``exemplar_size``, ``instance_size``, ``context``, ``backbone``, ``out_scale``) is the tracker's own
(its YAML, else its type's constructor defaults); its ``train:`` section holds :class:`TrackerSettings`.
"""
import dataclasses
from dataclasses import dataclass, field
from typing import Optional

from ientrack.data.pairs import PairSettings
from ientrack.equivariance.canon_loss import CONTRASTIVE_WEIGHT
from ientrack.eval.cls_metrics import C8_ANGLES
from ientrack.train.loader import available_cpus


@dataclass
class LoopSettings:
    """What every run of :func:`ientrack.train.trainer.fit` has."""

    batch_size: int = 8  # items per step and process
    save_every: int = 500  # steps between writes of the resumable state (also written at each epoch end and on Ctrl-C)
    seed: int = 0  # initial weights, data order, augmentation

    @classmethod
    def from_dict(cls, values: Optional[dict], what: str = "training", **overrides):
        """``values`` over the defaults, then the non-``None`` ``overrides``; unknown keys are an error."""
        merged = {**(values or {}), **{k: v for k, v in overrides.items() if v is not None}}
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(merged) - known)
        if unknown:
            raise ValueError(f"{what}: unknown settings {unknown}; known: {sorted(known)}")
        return cls(**merged)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class TrackerSettings(PairSettings, LoopSettings):
    """A Siamese tracker's network trained on pairs (siamfc-pytorch's recipe); a tracker YAML's ``train:``
    section overrides these, and so do tools/train.py's flags. How pairs are drawn and posed is
    :class:`ientrack.data.pairs.PairSettings`, a comment per key there: ``max_gap`` (frames of a sequence
    pair at most this far apart), ``mixture`` (each source's share of an epoch's pairs, by the source's name:
    ``{real@train: 0.6, photos: 0.2, Builtin-train: 0.2}``), ``pairs_per_epoch``, and the poses (``rotate``,
    ``relative_angle``, ``rotate_fraction``)."""

    epochs: int = 50  # passes over the pairs
    batch_size: int = 8  # pairs per step and process
    lr_start: float = 1e-2  # SGD's learning rate in the first epoch, log-spaced down to ...
    lr_end: float = 1e-5  # ... this in the last
    momentum: float = 0.9
    weight_decay: float = 5e-4
    r_pos: float = 16.0  # response cells within this many search-image pixels of the centre are positives
    r_neg: float = 0.0  # cells beyond this are negatives (the ring between is ignored; 0: none)
    workers: int = field(default_factory=lambda: min(4, available_cpus()))  # data-loading processes per training process
    export_half: bool = True  # the exported weights in float16
    backbone: Optional[str] = None  # the backbone's training form where it differs (re_siamfc: its e2cnn form)
    ien: Optional[dict] = None  # the IEN term: {beta, group} on the layers the backbone declares (tracker_actor)
    extractor: Optional[dict] = None  # the extractor's own stage before the pairs (tools/train.py --stage extractor): ExtractorSettings
    box_head: Optional[dict] = None  # the box head's stage on the frozen extractor (tools/train.py --stage box_head): BoxHeadSettings
    # a frozen extractor (effnet_lite0_s8 with an adjust layer): its features of this many pairs computed
    # once, and every epoch passes over all of them through the trained part (ientrack/train/feature_cache.py)
    feature_cache: Optional[int] = None

    @classmethod
    def from_config(cls, config: dict, **overrides) -> "TrackerSettings":
        """The tracker config's ``train:`` section over the defaults, then the non-``None`` ``overrides``."""
        return cls.from_dict(config.get("train"), f"tracker config {config.get('name', '?')} train", **overrides)

    def lr_gamma(self) -> float:
        """Per-epoch decay so that epoch ``e`` runs at ``logspace(lr_start, lr_end, epochs)[e]``."""
        return (self.lr_end / self.lr_start) ** (1.0 / max(self.epochs - 1, 1))


@dataclass
class ClsConfig(LoopSettings):
    """One classification experiment (``configs/cls/*.yaml``, a flat mapping of these settings). Defaults:
    the IEN paper's Rot-MNIST recipe (CNNBasic, R4, beta 1, Adam, one cycle)."""

    name: str = "rotmnist_ien_r4"  # the experiment (rows of the collated table)
    # data: ientrack.data.cls_datasets.build_cls_dataset
    dataset: str = "mnist"  # mnist | scale_mnist | stl10 | tiny_imagenet | imagefolder
    data_root: Optional[str] = None  # the dataset's folder (None: the configured root)
    input_size: Optional[int] = None  # pad / crop / resize images to this size
    train_limit: Optional[int] = None  # train on a fixed subset of this many images
    test_limit: Optional[int] = None  # test on a fixed subset of this many images
    classes: Optional[list] = None  # the classes kept (imagefolder)
    num_classes: Optional[int] = None  # the first N classes (imagefolder)
    data_seed: int = 0  # which subset
    train_rotation: bool = True  # each training image turned by a uniform random angle ...
    rotation_padding: str = "zeros"  # ... padded so (zeros | reflection | border)
    # model: ientrack.models.cls_models.build_cls_model
    model: str = "cnn_basic"
    group: str = "R4"  # the group of the model's fields and of the IEN term
    field_spec: str = "homog"  # homog | hetero | plain (ientrack.models.cls_fields)
    model_kw: dict = field(default_factory=dict)  # further keywords of the model (widths, hetero...)
    # the IEN term, on the fields the model declares (steerable models: equivariant by construction, no term)
    beta: float = 1.0  # its weight (0: the same doubled, group-augmented batches without the term)
    ien_layers: Optional[list] = None  # a subset of the declared layers by name (None: all)
    beta_ramp: float = 0.0  # share of the steps over which beta rises linearly from 0 (0: constant)
    # optimisation: Adam and the one-cycle schedule of ientrack.train.schedules
    epochs: int = 5
    batch_size: int = 64  # images per step and process
    lr: float = 5e-3  # the peak learning rate
    weight_decay: float = 1e-7
    pct_start: float = 0.25  # share of the steps rising to the peak
    div_factor: float = 500.0  # the first learning rate is lr / div_factor ...
    final_div_factor: float = 1.0  # ... and the last that divided by this
    workers: int = 0  # data-loading processes
    # evaluation (ientrack.eval.cls_metrics)
    eval_batch_size: int = 256
    eval_angles: list = field(default_factory=lambda: list(C8_ANGLES))


@dataclass
class BoxHeadSettings(LoopSettings):
    """A box head on a frozen extractor (:mod:`ientrack.train.box_head_trainer`, ``tools/train.py --stage
    box_head``); a tracker YAML's ``train: {box_head: ...}`` section overrides these, and so do the flags."""

    pairs: int = 8000  # box pairs whose frozen features are computed once (the epoch)
    mixture: Optional[dict] = None  # each source's share of the pairs, by name (PairSettings.mixture)
    pairs_per_epoch: Optional[int] = None  # the mixture's epoch (None: the sources' sequences and images x --repeat)
    shift: float = 32.0  # the search window moves up to this many output pixels off the target ...
    scale_jitter: float = 0.3  # ... and is scaled by up to exp(+-this) from the target's own window
    width: int = 64  # the head's channels
    radius: float = 16.0  # the loss's cells: within this many search-crop pixels of the target's centre
    epochs: int = 20  # passes over the cached pairs
    batch_size: int = 64
    lr: float = 3e-3  # the peak learning rate (one cycle)
    weight_decay: float = 1e-4
    workers: int = field(default_factory=lambda: min(4, available_cpus()))  # processes drawing the pairs once
    save_every: int = 200


@dataclass
class CanonSettings(LoopSettings):
    """A canonicalizer trained on upright photos (stored in its checkpoints' meta)."""

    canonicalizer: dict = field(default_factory=lambda: {"trunk": "lite0", "group": "C4", "size": 64,
                                                         "search": True, "trunk_stride": 16})  # build_canonicalizer's settings
    steps: int = 600  # Adam steps, each on batch_size images drawn at random
    batch_size: int = 32  # images per step
    lr: float = 1e-3
    weight_decay: float = 1e-4
    prior: float = 1.0  # weight of the prior toward the identity pose of upright images
    consistency: float = 0.0  # weight of the consistency of the poses of the rotated copies
    contrastive: float = CONTRASTIVE_WEIGHT  # weight of the contrastive term (0 for the e2cnn canonicalizer)
    temperature: float = 0.1  # of the contrastive term
    save_every: int = 50
    bank_views: int = 6  # a frozen trunk: its features of this many augmented views of each image, cached


@dataclass
class ExtractorSettings(LoopSettings):
    """A pretrained extractor (``effnet_lite0_s8``) fine-tuned on still images with the IEN term beside a
    distillation from its frozen copy (:mod:`ientrack.train.extractor_trainer`); a tracker YAML's
    ``train: {extractor: ...}`` section overrides these, and so do tools/train.py's flags."""

    steps: int = 400  # Adam steps, each on batch_size views drawn at random
    batch_size: int = 8  # views per step (the IEN term doubles them: x and g x)
    lr: float = 1e-4  # the peak learning rate (one cycle, ientrack.train.schedules)
    weight_decay: float = 0.0  # 0: the distillation alone holds the weights near ImageNet's
    size: int = 129  # the views' side in pixels: 8k + 1, exact for the trunk's stride grid under C4
    beta: float = 1.0  # weight of the IEN term (0: distillation alone, no doubled batch)
    group: str = "C4"  # the IEN term's group (exact: C4, C2, D4; C8 compares inside the disk)
    distill: float = 1.0  # weight of the MSE between the trunk's and its frozen copy's features of the upright views
    min_scale: float = 0.5  # a view is a random square of this much to all of the image's shorter side ...
    max_angle: float = 10.0  # ... turned by at most this many degrees (the IEN term adds the group's turns)
    short_side: int = 256  # images and frames are shrunk to this shorter side when read
    save_every: int = 50
