#!/usr/bin/env python
"""Train and evaluate one rotated-classification experiment, or collate the results of many.

  python tools/train_cls.py --config configs/cls/rotmnist_ien_r4.yaml --seed 1 --out runs/rotmnist/ien_r4/seed1
  python tools/train_cls.py --config configs/cls/rotmnist_ien_r4.yaml --beta 0 --name rotmnist_beta0 --out ...
  python tools/train_cls.py --config configs/cls/imagenet10_alexnet.yaml --export-backbone alexnet_rot.pt
  torchrun --nproc_per_node 4 tools/train_cls.py --config ...        # DDP, one process per GPU
  python tools/train_cls.py --collate runs/rotmnist                  # -> runs/rotmnist/results.md

Flags override the config's settings (ientrack/train/settings.py, ClsConfig, lists them all); the results land in
``OUT/results.json`` (upright, C4- and C8-averaged, random-rotation accuracy, parameters, channels, time
per epoch, the config), the weights in ``OUT/model.pt`` and the resumable state in ``OUT/last.pt`` (written
every --save-every steps, at each epoch end and on Ctrl-C, which exits with status 130). A run resumes
from ``OUT/last.pt`` unless --no-resume, as tools/train.py does. In the collated table, runs that did not
finish (a --max-steps smoke run, an interrupted one) form rows of their own, marked "(unfinished)".
"""
import argparse

from ientrack.cli import add_progress_option, tool_main
from ientrack.train.cls_config import load_cls_config
from ientrack.train.settings import ClsConfig


def _parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="experiment YAML (configs/cls/*.yaml); without it, the defaults")
    p.add_argument("--collate", metavar="DIR", help="only collate DIR/**/results.json into DIR/results.md")
    p.add_argument("--out", help="output folder of the run (default runs/cls/<name>/seed<seed>)")
    p.add_argument("--name", help="experiment name (rows of the collated table)")
    p.add_argument("--model", help="classification model (ientrack.models.cls_models)")
    p.add_argument("--beta", type=float, help="weight of the IEN loss (0: baseline)")
    p.add_argument("--ien-layers", dest="ien_layers", nargs="+", metavar="LAYER",
                   help="tap only these layers (names of the model's IEN specs, e.g. features.block6)")
    p.add_argument("--beta-ramp", dest="beta_ramp", type=float,
                   help="share of the steps over which beta rises linearly from 0 (default 0: constant)")
    p.add_argument("--group", help="R4 | R8 | D4 (also C4, C8...)")
    p.add_argument("--field-spec", dest="field_spec", choices=["homog", "hetero", "plain"])
    p.add_argument("--dataset", help="mnist | scale_mnist | stl10 | tiny_imagenet | imagefolder")
    p.add_argument("--data-root", dest="data_root", help="dataset folder (default: the configured root)")
    p.add_argument("--input-size", dest="input_size", type=int, help="pad / crop / resize images to this size")
    p.add_argument("--train-limit", dest="train_limit", type=int, help="train on a fixed subset of N images")
    p.add_argument("--test-limit", dest="test_limit", type=int, help="test on a fixed subset of N images")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", dest="batch_size", type=int, help="per process")
    p.add_argument("--lr", type=float, help="peak learning rate of the one-cycle schedule")
    p.add_argument("--seed", type=int)
    p.add_argument("--workers", type=int, help="data-loading processes")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                   help="continue from OUT/last.pt when it exists")
    p.add_argument("--save-every", dest="save_every", type=int, help="steps between writes of OUT/last.pt")
    p.add_argument("--max-steps", dest="max_steps", type=int, help="stop after N steps (smoke runs)")
    p.add_argument("--amp", action=argparse.BooleanOptionalAction, default=None,
                   help="mixed precision (default: on CUDA)")
    p.add_argument("--export-backbone", dest="export_backbone", metavar="FILE",
                   help="also save the backbone weights for tools/train.py --pretrained (alexnet_siamfc)")
    add_progress_option(p)
    return p


_OVERRIDES = ("name", "model", "beta", "ien_layers", "beta_ramp", "group", "field_spec", "dataset", "data_root",
              "input_size", "train_limit", "test_limit", "epochs", "batch_size", "lr", "seed", "workers", "save_every")


@tool_main()
def main(argv=None):
    args = _parser().parse_args(argv)
    if args.collate:
        from ientrack.eval.cls_report import write_collated

        path = write_collated(args.collate)
        print(path.read_text(), end="")
        print(f"written to {path}")
        return
    overrides = {key: getattr(args, key) for key in _OVERRIDES}
    if args.config:
        config = load_cls_config(args.config, **overrides)
    else:
        config = ClsConfig.from_dict({}, "classification", **overrides)
    from ientrack.train.cls_trainer import train_classifier

    out = args.out or f"runs/cls/{config.name}/seed{config.seed}"
    train_classifier(config, out, device=args.device, resume=args.resume, max_steps=args.max_steps,
                     amp=args.amp, progress=args.progress, export_backbone_to=args.export_backbone)


if __name__ == "__main__":
    main()
