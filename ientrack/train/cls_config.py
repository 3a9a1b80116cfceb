"""Settings of one classification experiment (``configs/cls/*.yaml``): a flat mapping of these fields."""
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import yaml

from ientrack.eval.cls_metrics import C8_ANGLES


@dataclass
class ClsConfig:
    """One experiment. Defaults: the IEN paper's Rot-MNIST recipe (CNNBasic, R4, beta 1, Adam, one cycle).

    Data: ``dataset`` / ``data_root`` / ``input_size`` / ``train_limit`` / ``test_limit`` / ``classes`` /
    ``num_classes`` / ``data_seed`` go to :func:`ientrack.data.cls_datasets.build_cls_dataset`;
    ``train_rotation``: rotate each training image by a uniform random angle (padding ``rotation_padding``).
    Model: ``model``, ``group``, ``field_spec``, ``model_kw`` go to
    :func:`ientrack.models.cls_models.build_cls_model`; ``beta`` weighs the IEN loss on the model's
    ``ien_specs`` (0: the same doubled, group-augmented batches without the loss; models without
    ``ien_specs``, the steerable ones, train plainly); ``ien_layers``: the tapped layers, a subset of
    ``ien_specs`` by name (``None``: all); ``beta_ramp``: the share of the training steps over which beta
    rises linearly from 0 to ``beta`` (0: constant). Optimiser: Adam with ``weight_decay`` and the one-cycle
    schedule of :mod:`ientrack.train.schedules` (peak ``lr``). ``save_every``: steps between checkpoints.
    """

    name: str = "rotmnist_ien_r4"
    dataset: str = "mnist"
    data_root: Optional[str] = None
    input_size: Optional[int] = None
    train_limit: Optional[int] = None
    test_limit: Optional[int] = None
    classes: Optional[list] = None
    num_classes: Optional[int] = None
    data_seed: int = 0
    train_rotation: bool = True
    rotation_padding: str = "zeros"
    model: str = "cnn_basic"
    group: str = "R4"
    field_spec: str = "homog"
    model_kw: dict = field(default_factory=dict)
    beta: float = 1.0
    ien_layers: Optional[list] = None
    beta_ramp: float = 0.0
    epochs: int = 5
    batch_size: int = 64
    lr: float = 5e-3
    weight_decay: float = 1e-7
    pct_start: float = 0.25
    div_factor: float = 500.0
    final_div_factor: float = 1.0
    seed: int = 0
    workers: int = 0
    eval_batch_size: int = 256
    eval_angles: list = field(default_factory=lambda: list(C8_ANGLES))
    save_every: int = 500

    @classmethod
    def from_dict(cls, values: dict, **overrides) -> "ClsConfig":
        """``values`` over the defaults, then the non-``None`` ``overrides``; unknown keys are an error."""
        merged = {**(values or {}), **{k: v for k, v in overrides.items() if v is not None}}
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(merged) - known)
        if unknown:
            raise ValueError(f"unknown classification settings {unknown}; known: {sorted(known)}")
        return cls(**merged)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def load_cls_config(path, **overrides) -> ClsConfig:
    """A :class:`ClsConfig` from a YAML file (a flat mapping), with ``overrides`` applied."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"classification config not found: {path}")
    with open(path, encoding="utf-8") as f:
        values = yaml.safe_load(f) or {}
    if not isinstance(values, dict):
        raise ValueError(f"{path}: expected a mapping of settings, got {type(values).__name__}")
    try:
        return ClsConfig.from_dict(values, **overrides)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from error
