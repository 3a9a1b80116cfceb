"""Rotated-accuracy protocol, one-cycle schedule, classifier training (loss goes down, resume is exact),
results collation, and pre-training SiamFC's AlexNet on ImageNet samples for the tracker."""
import json
import os
import subprocess
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from torch.utils.data import TensorDataset

from conftest import ctrl_c_at_call, shared_path, spawn_on_a_free_port
from ientrack.checkpoint import load_checkpoint
from ientrack.eval.cls_metrics import C8_ANGLES, rotated_accuracy
from ientrack.eval.cls_report import collate_table
from ientrack.models.registry import build_backbone
from ientrack.equivariance import group_from_name
from ientrack.equivariance.ien_loss import declared_fields
from ientrack.train import trainer
from ientrack.train.cls_actor import ClassifierActor, build_ien, ramped_beta
from ientrack.train.cls_trainer import build_data, build_model, train_classifier
from ientrack.train.settings import ClsConfig
from ientrack.train.interrupt import TrainingInterrupted
from ientrack.train.schedules import OneCycle, one_cycle
from tools.train_cls import _parser as train_cls_parser
from tools.train_cls import main as train_cls_main

ROOT = Path(__file__).resolve().parents[1]

CONFIGS = ROOT / "configs" / "cls"
TINY_CNN = {"widths": [8, 8, 8, 8, 8, 16]}


class PixelStatistics(nn.Module):
    """Classifies from the mean, mean square and max of the pixels: invariant to any pixel permutation,
    so exactly invariant to quarter turns by construction."""

    def __init__(self, classes):
        super().__init__()
        self.linear = nn.Linear(3, classes)

    def forward(self, x):
        flat = x.flatten(1)
        return self.linear(torch.stack([flat.mean(1), (flat ** 2).mean(1), flat.amax(1)], 1))


class Constant(nn.Module):
    def __init__(self, classes, answer):
        super().__init__()
        self.classes, self.answer = classes, answer

    def forward(self, x):
        return nn.functional.one_hot(torch.full((len(x),), self.answer), self.classes).float()


def _images(count=40, classes=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return TensorDataset(torch.rand(count, 1, 12, 12, generator=g), torch.randint(0, classes, (count,), generator=g))


def test_an_invariant_model_scores_the_same_at_every_quarter_turn():
    torch.manual_seed(0)
    data = _images()
    result = rotated_accuracy(PixelStatistics(4), data, batch_size=16)
    c4 = [result["per_angle"][a] for a in (0, 90, 180, 270)]
    assert c4 == [c4[0]] * 4 and result["c4"] == c4[0] and result["upright"] == c4[0] and result["count"] == 40
    # a model that looks at pixel positions does not: the protocol can tell them apart
    torch.manual_seed(0)
    positional = nn.Sequential(nn.Flatten(), nn.Linear(144, 4))
    per_angle = rotated_accuracy(positional, data, angles=(0, 90, 180, 270), batch_size=16)["per_angle"]
    assert len(set(per_angle.values())) > 1


def test_a_constant_predictor_scores_its_class_frequency():
    data = _images(count=50)
    frequency = (data.tensors[1] == 2).float().mean().item()
    result = rotated_accuracy(Constant(4, 2), data, batch_size=7)
    assert all(acc == pytest.approx(frequency) for acc in result["per_angle"].values())
    assert result["c8"] == pytest.approx(frequency) and result["random"] == pytest.approx(frequency)
    assert sorted(result["per_angle"]) == list(C8_ANGLES)


def test_one_cycle_schedule_follows_the_ien_recipe():
    optimizer = torch.optim.Adam([nn.Parameter(torch.zeros(1))])
    scheduler = one_cycle(optimizer, 100, OneCycle(max_lr=5e-3))
    lrs = []
    for _ in range(100):
        lrs.append(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
    assert lrs[0] == pytest.approx(1e-5) and max(lrs) == pytest.approx(5e-3)
    assert lrs.index(max(lrs)) == 24 and lrs[-1] < 2e-5 and optimizer.param_groups[0]["betas"] == (0.9, 0.999)


@pytest.mark.parametrize("amp", [None, torch.bfloat16])  # bfloat16: mixed precision on the CPU (--amp)
def test_a_few_ien_steps_lower_the_loss(amp):
    config = ClsConfig(train_limit=32, test_limit=8, model_kw=TINY_CNN, train_rotation=False)
    train_set, _ = build_data(config)
    model = build_model(config, 10, 1)
    actor = ClassifierActor(model, config, build_ien(model, config), 8, torch.device("cpu"))
    assert actor.ien.beta == 1.0 and list(actor.ien.layers) == [f"features.block{i}" for i in range(1, 7)]
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    batch = (train_set.images.float() / 255, train_set.labels)
    losses = [trainer.train_step(actor, model, optimizer, scaler, batch, {"step": step}, amp) for step in range(8)]
    assert losses[-1]["loss"] < 0.8 * losses[0]["loss"] and all(terms["equiv"] >= 0 for terms in losses)


def _tiny_config(**kw):
    kw = {"name": "tiny", "train_limit": 48, "test_limit": 16, "batch_size": 16, "epochs": 2, "eval_angles": [0, 90],
          "model_kw": TINY_CNN, **kw}
    return ClsConfig(**kw)


TINY_MODELS = {"cnn_basic": {}, "steerable_cnn_basic": {"group": "C4", "input_size": 29}}


@pytest.mark.parametrize("model", TINY_MODELS)
def test_resume_continues_at_the_same_step_with_the_same_weights(tmp_path, model):
    config = _tiny_config(model=model, **TINY_MODELS[model])
    whole = train_classifier(config, tmp_path / "whole", device="cpu", progress=False)
    assert whole["steps"] == 6 and whole["finished"] and whole["c8_acc"] is None and whole["c4_acc"] is None
    part = train_classifier(config, tmp_path / "split", device="cpu", max_steps=4, progress=False)
    assert part["steps"] == 4 and not part["finished"]
    resumed = train_classifier(config, tmp_path / "split", device="cpu", resume=True, progress=False)
    assert resumed["steps"] == 6 and resumed["epochs_done"] == 2
    a, _ = load_checkpoint(tmp_path / "whole" / "model.pt")
    b, _ = load_checkpoint(tmp_path / "split" / "model.pt")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    saved = json.loads((tmp_path / "whole" / "results.json").read_text())
    assert saved["upright_acc"] == whole["upright_acc"] and saved["config"]["name"] == "tiny"
    assert saved["precision"] == "float32"
    assert saved["channels"] == TINY_CNN["widths"] and saved["params"] > 0 and saved["seconds_per_epoch"] > 0


def test_collated_table_gives_mean_and_spread_over_seeds(tmp_path):
    base = {"model": "cnn_basic", "group": "R4", "field_spec": "homog", "beta": 1.0, "params": 10_882_186,
            "c4_acc": None, "c8_acc": 0.5, "random_rot_acc": 0.5, "seconds_per_epoch": 10.0}
    for seed, acc in enumerate((0.9, 0.8)):
        folder = tmp_path / f"seed{seed}"
        folder.mkdir()
        (folder / "results.json").write_text(json.dumps({**base, "name": "ien_r4", "seed": seed, "upright_acc": acc}))
    table = collate_table([json.loads(p.read_text()) for p in sorted(tmp_path.rglob("results.json"))])
    row = table.splitlines()[2]
    assert "| ien_r4 | cnn_basic | R4 | homog | 1 | 2 | 10.88 | 85.00 ± 7.07 | - | 50.00 ± 0.00 |" in row
    train_cls_main(["--collate", str(tmp_path)])
    assert (tmp_path / "results.md").read_text() == table


def test_alexnet_pretraining_on_imagenet_samples_exports_a_tracker_backbone(tmp_path):
    samples = shared_path("imagenet_samples")
    folder = tmp_path / "imagenet10"
    for image in sorted(samples.glob("*.JPEG"))[:10]:  # ten classes, one image each
        (folder / image.stem).mkdir(parents=True)
        os.symlink(image, folder / image.stem / image.name)
    exported = tmp_path / "alexnet_rot.pt"
    train_cls_main(["--config", str(CONFIGS / "imagenet10_alexnet_ien_r4.yaml"), "--data-root", str(folder),
                    "--batch-size", "4", "--max-steps", "2", "--workers", "0", "--device", "cpu",
                    "--out", str(tmp_path / "run"), "--export-backbone", str(exported), "--no-progress"])
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["steps"] == 2 and results["test_images"] == 10 and results["model"] == "alexnet_siamfc"
    state, meta = load_checkpoint(exported)
    backbone = build_backbone("alexnet")
    backbone.load_state_dict(state, strict=True)
    trained, _ = load_checkpoint(tmp_path / "run" / "model.pt")
    assert torch.equal(state["features.0.weight"], trained["backbone.features.0.weight"])
    assert meta["steps"] == 2


def _no_bn_net(num_classes, in_channels, **_):
    """Without batch norm, two processes with half batches compute exactly the gradients of one."""
    return nn.Sequential(nn.Conv2d(in_channels, 4, 5, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 12 * 12, num_classes))


def _ddp_worker(rank, port, out):
    from ientrack.models.cls_models import register_cls_model

    os.environ.update(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(1)
    register_cls_model("no_bn", _no_bn_net)
    train_classifier(_ddp_config(batch_size=8), out, device="cpu", progress=False)


def _ddp_config(batch_size):
    return ClsConfig(name="ddp", model="no_bn", train_limit=64, test_limit=8, batch_size=batch_size, epochs=1,
                     train_rotation=False, eval_angles=[0])


def test_two_process_ddp_matches_one_process_with_the_whole_batch(tmp_path):
    from ientrack.models.cls_models import register_cls_model

    register_cls_model("no_bn", _no_bn_net)
    single = train_classifier(_ddp_config(batch_size=16), tmp_path / "single", device="cpu", progress=False)
    spawn_on_a_free_port(_ddp_worker, (str(tmp_path / "ddp"),))
    a, _ = load_checkpoint(tmp_path / "single" / "model.pt")
    b, _ = load_checkpoint(tmp_path / "ddp" / "model.pt")
    assert single["steps"] == 4 and json.loads((tmp_path / "ddp" / "results.json").read_text())["steps"] == 4
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    assert not torch.allclose(a["0.weight"], build_model(_ddp_config(16), 10, 1)[0].weight)  # it did train


def test_the_tapped_layers_and_the_beta_ramp_follow_the_config(tmp_path):
    model = build_model(_tiny_config(), 10, 1)
    r4 = group_from_name("R4")
    assert list(declared_fields(model, r4)) == [f"features.block{i}" for i in range(1, 7)]
    assert list(declared_fields(model, r4, ["features.block6"])) == ["features.block6"]
    with pytest.raises(ValueError, match="unknown.*block9"):
        declared_fields(model, r4, ["features.block9"])
    for other in ("C8", "C3"):  # R4 fields are no fields of C8 or C3
        with pytest.raises(ValueError, match=f"built for another group than {other}"):
            model.fields(group_from_name(other))
    ramp = _tiny_config(beta=2.0, beta_ramp=0.5)
    assert [ramped_beta(ramp, step, 100) for step in (0, 25, 50, 99)] == [0.0, 1.0, 2.0, 2.0]
    assert ramped_beta(_tiny_config(beta=2.0), 0, 100) == 2.0
    results = train_classifier(_tiny_config(ien_layers=["features.block6"], beta_ramp=0.5, epochs=1),
                               tmp_path, device="cpu", progress=False)
    assert results["config"]["ien_layers"] == ["features.block6"] and results["final_equiv_loss"] >= 0


def test_ctrl_c_saves_the_step_and_a_rerun_resumes_by_default(tmp_path, monkeypatch):
    """3 steps an epoch; Ctrl-C as step 5 begins leaves last.pt of step 4 (not of save_every) and no
    results; the same call again (resume is the default, as in tools/train.py) ends where an
    uninterrupted run does."""
    config = _tiny_config()
    train_classifier(config, tmp_path / "whole", device="cpu", progress=False)
    ctrl_c_at_call(monkeypatch, trainer, "train_step", 5)
    with pytest.raises(TrainingInterrupted) as stopped:
        train_classifier(config, tmp_path / "cut", device="cpu", progress=False)
    assert stopped.value.step == 4 and not (tmp_path / "cut" / "results.json").exists()
    _, meta = load_checkpoint(tmp_path / "cut" / "last.pt")
    assert (meta["progress"]["step"], meta["progress"]["epoch"], meta["progress"]["epoch_step"]) == (4, 1, 1)
    monkeypatch.undo()
    resumed = train_classifier(config, tmp_path / "cut", device="cpu", progress=False)
    assert resumed["steps"] == 6 and resumed["finished"]
    a, _ = load_checkpoint(tmp_path / "whole" / "model.pt")
    b, _ = load_checkpoint(tmp_path / "cut" / "model.pt")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert train_cls_parser().parse_args([]).resume and not train_cls_parser().parse_args(["--no-resume"]).resume


def _write_result(folder, finished, **values):
    folder.mkdir(parents=True)
    base = {"model": "cnn_basic", "group": "R4", "field_spec": "homog", "beta": 1.0, "params": 1e6, "c4_acc": 0.5,
            "c8_acc": 0.5, "random_rot_acc": 0.5, "seconds_per_epoch": 1.0, "upright_acc": 0.9}
    (folder / "results.json").write_text(json.dumps({**base, **values, "finished": finished}, indent=2))


def test_unfinished_runs_are_marked_in_the_collated_table(tmp_path):
    _write_result(tmp_path / "ien_r4" / "seed0", True, name="ien_r4", upright_acc=0.9)
    _write_result(tmp_path / "ien_r4" / "seed1", True, name="ien_r4", upright_acc=0.8)
    _write_result(tmp_path / "ien_r4" / "seed2", False, name="ien_r4", upright_acc=0.1)
    train_cls_main(["--collate", str(tmp_path)])
    rows = (tmp_path / "results.md").read_text().splitlines()[2:]
    assert len(rows) == 2
    assert rows[0].startswith("| ien_r4 | cnn_basic | R4 | homog | 1 | 2 |") and "85.00 ± 7.07" in rows[0]
    assert rows[1].startswith("| ien_r4 (unfinished) | cnn_basic | R4 | homog | 1 | 1 |") and "10.00" in rows[1]


def _study(tmp_path, status=0):
    """tools/rotmnist_study.sh (seed 0) with a stand-in for python that logs its arguments and exits ``status``."""
    fake = tmp_path / "fake_python"
    fake.write_text('#!/bin/sh\necho "$*" >> "$LOG"\nexit "$STATUS"\n')
    fake.chmod(0o755)
    log = tmp_path / "calls.log"
    log.write_text("")
    env = dict(os.environ, PYTHON=str(fake), SEEDS="0", LOG=str(log), STATUS=str(status))
    done = subprocess.run(["bash", str(ROOT / "tools" / "rotmnist_study.sh"), str(tmp_path / "out"), "--max-steps", "2"],
                          env=env, capture_output=True, text=True)
    return done, log.read_text().splitlines()


def test_the_study_skips_only_finished_runs_and_stops_on_ctrl_c(tmp_path):
    out = tmp_path / "out"
    _write_result(out / "rotmnist_beta0" / "seed0", True, name="rotmnist_beta0")
    _write_result(out / "rotmnist_ien_r4" / "seed0", False, name="rotmnist_ien_r4")  # a --max-steps smoke run
    done, calls = _study(tmp_path)
    assert done.returncode == 0 and f"done already: {out}/rotmnist_beta0/seed0" in done.stdout
    trained = [call.split("--name ")[1].split()[0] for call in calls if "--name" in call]
    assert trained == ["rotmnist_ien_r4", "rotmnist_ien_r8", "rotmnist_ien_r4_hetero", "rotmnist_steerable_c4",
                       "rotmnist_steerable_c8"]
    assert calls[-1] == f"tools/train_cls.py --collate {out}"
    interrupted, calls = _study(tmp_path, status=130)
    assert interrupted.returncode == 130 and len(calls) == 1 and "FAILED" not in interrupted.stderr
