#!/usr/bin/env python
"""Train a Siamese tracker's network on pairs from videos and/or still images.

  python tools/train.py --tracker siamfc --data GOT10k-train                      # the reference run
  torchrun --nproc_per_node 4 tools/train.py --tracker siamfc --data GOT10k-train # 4 GPUs (or machines)
  python tools/train.py --tracker siamfc --image-folder photos/ --max-steps 3 --device cpu   # a smoke run
  python tools/train.py --tracker effnet_siamfc --data data/real@train --data Builtin-train --image-folder photos \
      --mixture real@train=0.6 photos=0.2 Builtin-train=0.2 --pairs-per-epoch 800        # a mixture of sources

Training resumes from OUT/last.pt unless --no-resume; last.pt is written every --save-every steps, at each
epoch end and on Ctrl-C (which exits with status 130). The trained weights go to the file the tracker
config's ``weights`` names (or --export). A run stopped by --max-steps exports to OUT/weights.pt instead.
Only trackers with something to learn train: a ``siamfc`` network, an effnet_siamfc adjust layer (on its frozen
extractor, ``feature_cache``: the extractor's features of a fixed set of pairs computed once) or a canonicalizer.

A canonicalized tracker (canon_siamfc) has a pretrained extractor; what it learns is its canonicalizer,
from upright photos: --repeat frames spread over every sequence of --data (every GOT-10k frame is one)
and the images of --image-folder. Its weights replace the config's canonicalizer_weights (or go to
--export; a --max-steps run writes OUT/canonicalizer.pt).

  python tools/train.py --tracker canon_siamfc --data GOT10k-train

An effnet_siamfc config with a ``train: {extractor: ...}`` section fine-tunes its pretrained extractor
first (--stage extractor): the IEN term beside a distillation from the frozen ImageNet trunk, on upright
views of --image-folder images and of --repeat frames of every --data sequence
(ientrack/train/extractor_trainer.py). The trunk replaces the config's weights (or goes to --export; a
run stopped early writes OUT/extractor.pt).

  python tools/train.py --config ientrack/zoo/ien_siamfc.yaml --stage extractor --data real@train \
      --image-folder photos --repeat 20
"""
import argparse
import sys
from pathlib import Path

from ientrack.cli import add_progress_option, tool_main
from ientrack.data.pairs import pair_sources
from ientrack.eval.provenance import file_digest
from ientrack.models.registry import build_backbone
from ientrack.train.box_head_trainer import train_box_head
from ientrack.train.canon_tracker_training import retrain_canonicalizer, upright_images
from ientrack.train.extractor_trainer import train_extractor
from ientrack.train.settings import BoxHeadSettings, CanonSettings, ExtractorSettings, TrackerSettings
from ientrack.train.tracker_trainer import tracker_geometry, train_tracker
from ientrack.trackers.registry import available_trackers, load_config
from ientrack.trackers.siamfc import load_backbone_weights


def train_the_network(config: dict, args, out: str) -> int:
    max_gap = TrackerSettings.from_config(config, max_gap=args.max_gap).max_gap
    data = pair_sources(args.data, args.image_folder, data_root=args.data_root, max_gap=max_gap, repeat=args.repeat,
                        allow_partial=args.allow_partial)
    mixture = dict(args.mixture) if args.mixture else None
    result = train_tracker(config, data, out, epochs=args.epochs, batch_size=args.batch_size, max_gap=max_gap,
                           mixture=mixture, pairs_per_epoch=args.pairs_per_epoch,
                           lr=args.lr, device=args.device, resume=args.resume, amp=args.amp, workers=args.workers,
                           max_steps=args.max_steps, max_minutes=args.max_minutes, save_every=args.save_every,
                           export=args.export, pretrained=args.pretrained, seed=args.seed, rotate=args.rotate,
                           progress=args.progress)
    return 0 if result["step"] > 0 else 1


def train_the_canonicalizer(config: dict, args, out: str) -> int:
    images = upright_images(args.data, args.image_folder, args.data_root, frames_per_sequence=args.repeat,
                            allow_partial=args.allow_partial)
    export = args.export or (str(Path(out) / "canonicalizer.pt") if args.max_steps else None)
    path = retrain_canonicalizer(config, images, out, steps=args.max_steps, export=export, resume=args.resume,
                                 seed=args.seed, device=args.device, save_every=args.save_every,
                                 progress=args.progress)
    print(f"trained the canonicalizer on {len(images)} upright images; wrote {path}")
    return 0


def train_the_extractor(config: dict, args, out: str) -> int:
    section = (config.get("train") or {}).get("extractor")
    if config["type"] != "effnet_siamfc" or section is None:
        raise ValueError(f"--stage extractor needs an effnet_siamfc config with a train: {{extractor: ...}} section; "
                         f"{config['name']} (type {config['type']}) has none")
    settings = ExtractorSettings.from_dict(section, f"tracker config {config['name']} train.extractor",
                                           seed=args.seed, batch_size=args.batch_size, save_every=args.save_every)
    images = upright_images(args.data, args.image_folder, args.data_root, frames_per_sequence=args.repeat,
                            short_side=settings.short_side, progress=args.progress, allow_partial=args.allow_partial)
    result = train_extractor(images, settings, out, tracker_geometry(config)["backbone"], resume=args.resume,
                             device=args.device, export=args.export, weights=config.get("weights"),
                             max_steps=args.max_steps, max_minutes=args.max_minutes, progress=args.progress,
                             extra_meta={"trained_on": f"{len(images)} upright images (tools/train.py --stage extractor)"})
    return 0 if result["step"] > 0 else 1


def train_the_box_head(config: dict, args, out: str) -> int:
    geometry = tracker_geometry(config)
    settings = BoxHeadSettings.from_dict((config.get("train") or {}).get("box_head"),
                                         f"tracker config {config['name']} train.box_head", seed=args.seed,
                                         batch_size=args.batch_size, save_every=args.save_every, workers=args.workers,
                                         epochs=args.epochs, mixture=dict(args.mixture) if args.mixture else None,
                                         pairs_per_epoch=args.pairs_per_epoch)
    max_gap = TrackerSettings.from_config(config, max_gap=args.max_gap).max_gap
    sources = pair_sources(args.data, args.image_folder, data_root=args.data_root, max_gap=max_gap, repeat=args.repeat,
                           allow_partial=args.allow_partial)
    extractor = build_backbone(geometry["backbone"], **(geometry["backbone_args"] or {}))
    if config.get("weights"):
        load_backbone_weights(extractor, config["weights"], f"python tools/train.py --tracker {config['name']}")
    name = geometry["backbone"] + (f" + {file_digest(config['weights'])}" if config.get("weights") else "")  # the cache's key
    result = train_box_head(sources, settings, out, extractor, name,
                            geometry["exemplar_size"], geometry["instance_size"], geometry["context"],
                            resume=args.resume, device=args.device, export=args.export or config.get("box_head_weights"),
                            max_steps=args.max_steps, max_minutes=args.max_minutes, progress=args.progress)
    return 0 if result["step"] > 0 else 1


TRAINERS = {"siamfc": train_the_network, "effnet_siamfc": train_the_network,  # by tracker type
            "siamfc_canonicalized": train_the_canonicalizer}


def source_share(text: str):
    """``NAME=SHARE`` of --mixture: (name, share)."""
    name, sep, share = text.rpartition("=")
    try:
        if not (sep and name):
            raise ValueError(text)
        return name, float(share)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=SHARE (e.g. real@train=0.6), got {text!r}") from None


@tool_main()
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracker", default="siamfc", help="tracker name in the zoo (ientrack/zoo/<name>.yaml)")
    parser.add_argument("--config", default=None, help="tracker YAML path (replaces --tracker)")
    parser.add_argument("--data", action="append", default=[], help="sequence dataset name, e.g. GOT10k-train (repeatable)")
    parser.add_argument("--data-root", "--dataset-root", dest="data_root", default=None,
                        help="root folder of --data (default: datasets/paths.yaml)")
    parser.add_argument("--allow-partial", action="store_true",
                        help="train on the sequences present when a --data dataset is incomplete (warns which are missing)")
    parser.add_argument("--image-folder", action="append", default=[], help="folder of still images (repeatable)")
    parser.add_argument("--epochs", type=int, default=None, help="default: the config's train section, else "
                                                                 "ientrack/train/settings.py")
    parser.add_argument("--batch-size", type=int, default=None, help="per process (default: the config's train "
                                                                     "section, else ientrack/train/settings.py)")
    parser.add_argument("--lr", type=float, nargs=2, default=None, metavar=("START", "END"),
                        help="log-spaced learning rates of the first and last epoch "
                             f"(default {TrackerSettings.lr_start:g} {TrackerSettings.lr_end:g})")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--out", default=None, help="folder of last.pt, the resumable state (default runs/<tracker>)")
    parser.add_argument("--repeat", type=int, default=1, help="pairs per sequence and per image in one epoch (small data); "
                                                                      "canon_siamfc: frames per sequence")
    parser.add_argument("--max-gap", type=int, default=None,
                        help=f"frames of a sequence pair at most this far apart (default {TrackerSettings.max_gap})")
    parser.add_argument("--mixture", nargs="+", type=source_share, default=None, metavar="NAME=SHARE",
                        help="each source's share of an epoch's pairs: a --data dataset by its name (real@train, "
                             "Builtin-train), an --image-folder by its folder's name (photos); default: the "
                             "config's train section, else each source's sequences / images x --repeat")
    parser.add_argument("--pairs-per-epoch", type=int, default=None,
                        help="an epoch's size (default: the sources' sequences and images x --repeat)")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many steps (smoke runs)")
    parser.add_argument("--max-minutes", type=float, default=None,
                        help="stop after this much training time, saving last.pt (a later run resumes)")
    parser.add_argument("--workers", type=int, default=None,
                        help="data loading processes per training process (default: 4, at most the CPUs available)")
    parser.add_argument("--save-every", type=int, default=None,
                        help=f"steps between writes of OUT/last.pt (default {TrackerSettings.save_every}; "
                             f"canon_siamfc: {CanonSettings.save_every})")
    parser.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True, help="continue from OUT/last.pt")
    parser.add_argument("--amp", action=argparse.BooleanOptionalAction, default=None, help="mixed precision (default: on CUDA)")
    parser.add_argument("--export", default=None, help="where to write the trained weights (default: the config's weights)")
    parser.add_argument("--pretrained", default=None,
                        help="initial backbone weights, e.g. from tools/train_cls.py or a tuned trunk (ien_siamfc.pt); "
                             "a frozen part the file lacks keeps its pretrained weights")
    parser.add_argument("--rotate", action=argparse.BooleanOptionalAction, default=None,
                        help="turn search crops by random angles (rotation-equivariant trackers)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--stage", choices=["tracker", "extractor", "box_head"], default="tracker",
                        help="extractor: fine-tune an effnet_siamfc config's pretrained extractor (its train.extractor "
                             "section) instead of training the tracker; box_head: train a box head on the tracker's "
                             "frozen extractor (its train.box_head section)")
    add_progress_option(parser)
    args = parser.parse_args(argv)
    config = load_config(args.config or args.tracker)  # an unknown tracker or a bad config: one line, exit 1
    out = args.out or str(Path("runs") / Path(args.config or args.tracker).stem)
    if args.stage == "extractor":
        return train_the_extractor(config, args, out)
    if args.stage == "box_head":
        return train_the_box_head(config, args, out)
    if config["type"] not in TRAINERS:
        trainable = [name for name in available_trackers() if load_config(name)["type"] in TRAINERS]
        raise ValueError(f"tracker {config['name']} (type {config['type']}) has nothing to train; "
                         f"trainable trackers: {', '.join(trainable)}")
    if not args.data and not args.image_folder:
        raise ValueError("give training data: --data GOT10k-train and/or --image-folder DIR")
    return TRAINERS[config["type"]](config, args, out)  # missing data, too little of it...: one line, exit 1

if __name__ == "__main__":
    sys.exit(main())
