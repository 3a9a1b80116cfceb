"""Tracker training: the SiamFC loss, learning on real photos, checkpoints, resume (also after Ctrl-C) and export."""
import math
import os
import runpy
from pathlib import Path

import numpy as np
import pytest
import skimage.data
import torch

from ientrack.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ientrack.data.pairs import StillImagePairSource, TrainingPairs
from ientrack.models.effnet_backbone import EffNetLite0Stride8
from ientrack.models.heads import XCorrHead
from ientrack.models.siamese import SiameseNet
from conftest import ctrl_c_at_call, shared_path
from ientrack.precision import amp_dtype
from ientrack.train import trainer, tracker_trainer
from ientrack.train.interrupt import TrainingInterrupted
from ientrack.train.settings import TrackerSettings
from ientrack.train.siamese_loss import BalancedLoss, siamfc_labels
from ientrack.train.tracker_actor import TrackerActor
from ientrack.train.tracker_trainer import build_siamese_net, load_pretrained_backbone, train_tracker
from ientrack.train.trainer import load_training_state, save_training_state

CONFIG = {"name": "siamfc_test", "backbone": "alexnet", "exemplar_size": 127, "instance_size": 255, "context": 0.5}
LOOP_CONFIG = dict(CONFIG, instance_size=191)  # 9 x 9 responses: the loop's mechanics at half the cost


def photo_source():
    return StillImagePairSource([skimage.data.astronaut(), skimage.data.chelsea(), skimage.data.coffee(),
                                 skimage.data.rocket()])


def photo_batch(n=2, instance_size=255):
    pairs = TrainingPairs([photo_source()], instance_size=instance_size, seed=0)
    z, x = zip(*(pairs[i] for i in range(n)))
    return torch.stack(z), torch.stack(x)


def sgd(net, settings=TrackerSettings()):
    return torch.optim.SGD(net.parameters(), lr=settings.lr_start, momentum=settings.momentum,
                           weight_decay=settings.weight_decay)


def no_scaler():
    return torch.amp.GradScaler("cpu", enabled=False)


def train_step(net, loss_fn, optimizer, scaler, z, x, amp=None):
    """One step of the trainer with the tracker's actor (no IEN term); the batch's loss before the step."""
    actor = TrackerActor(net, loss_fn, None, next(net.parameters()).device)
    return trainer.train_step(actor, net, optimizer, scaler, (z, x), {}, amp)["loss"]


def test_label_map_has_the_siamfc_positives_and_balanced_weights():
    labels, weights = siamfc_labels(17, 8, r_pos=16, r_neg=0)
    assert labels.shape == weights.shape == (1, 1, 17, 17)
    # within 16 px = 2 cells of the centre: the centre, 4 + 4 neighbours at 1 and sqrt(2), 4 at 2 cells
    assert labels.sum() == 13 and labels[0, 0, 8, 8] == 1 and labels[0, 0, 8, 10] == 1 and labels[0, 0, 9, 10] == 0
    assert weights.sum() == pytest.approx(1.0)
    assert weights[labels == 1].sum() == pytest.approx(0.5) and weights[labels == 0].sum() == pytest.approx(0.5)


def test_balanced_loss_known_values():
    loss = BalancedLoss(17, 8)
    assert loss(torch.zeros(3, 1, 17, 17)).item() == pytest.approx(math.log(2), rel=1e-6)
    perfect = (loss.labels * 2 - 1).expand(3, 1, 17, 17) * 30
    assert loss(perfect).item() < 1e-10
    wrong_centre = torch.zeros(1, 1, 17, 17)
    wrong_centre[0, 0, 8, 8] = -5.0  # one positive cell confidently wrong: weight 0.5 / 13
    expected = (0.5 / 13) * math.log1p(math.exp(5.0)) + (1 - 0.5 / 13) * math.log(2)
    assert loss(wrong_centre).item() == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match="17, 17"):
        loss(torch.zeros(1, 1, 15, 15))


def test_training_lowers_the_loss_on_a_fixed_batch_of_photos():
    torch.manual_seed(0)
    net = build_siamese_net(LOOP_CONFIG).train()
    z, x = photo_batch(2, LOOP_CONFIG["instance_size"])
    optimizer, loss_fn = sgd(net), BalancedLoss(9, 8)
    losses = [train_step(net, loss_fn, optimizer, no_scaler(), z, x) for _ in range(20)]
    assert losses[0] == pytest.approx(math.log(2), abs=0.05)  # out_scale 0.001: responses start near 0
    assert losses[-1] < 0.75 * losses[0]


def test_training_state_round_trips(tmp_path):
    torch.manual_seed(0)
    z, x = photo_batch(2, LOOP_CONFIG["instance_size"])
    nets = [build_siamese_net(LOOP_CONFIG).train() for _ in range(2)]
    optimizers = [sgd(n) for n in nets]
    schedulers = [torch.optim.lr_scheduler.ExponentialLR(o, 0.5) for o in optimizers]
    scalers = [no_scaler(), no_scaler()]
    loss_fn = BalancedLoss(9, 8)
    train_step(nets[0], loss_fn, optimizers[0], scalers[0], z, x)
    schedulers[0].step()
    progress = {"epoch": 1, "epoch_step": 0, "step": 1, "train_seconds": 2.5, "loss": 0.7}
    save_training_state(tmp_path / "last.pt", nets[0], optimizers[0], schedulers[0], scalers[0], progress)
    assert load_training_state(tmp_path / "last.pt", nets[1], optimizers[1], schedulers[1], scalers[1]) == progress
    assert schedulers[1].get_last_lr() == schedulers[0].get_last_lr() == [0.005]
    for a, b in zip(nets[0].state_dict().values(), nets[1].state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(optimizers[0].state.values(), optimizers[1].state.values()):
        assert torch.equal(a["momentum_buffer"], b["momentum_buffer"])
    # continuing from the restored state takes exactly the step the original takes
    for net, opt, scaler in zip(nets, optimizers, scalers):
        train_step(net, loss_fn, opt, scaler, z, x)
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        assert torch.equal(a, b)


def test_exported_weights_are_not_a_training_state(tmp_path):
    net = build_siamese_net(CONFIG)
    save_checkpoint(tmp_path / "w.pt", net.state_dict())
    opt = sgd(net)
    with pytest.raises(ValueError, match="not a training state"):
        load_training_state(tmp_path / "w.pt", net, opt, torch.optim.lr_scheduler.ExponentialLR(opt, 0.5), no_scaler())


def progress_of(meta):
    """The position a checkpoint's progress records (without the timing and the last losses)."""
    return {k: meta["progress"][k] for k in ("epoch", "epoch_step", "step")}


def run(tmp_path, name, source=photo_source, **kw):
    settings = dict(epochs=2, batch_size=2, device="cpu", workers=0, progress=False, seed=0)
    settings.update(kw)
    return train_tracker(LOOP_CONFIG, [source()], tmp_path / name, export=tmp_path / name / "export.pt", **settings)


def assert_same_training_state(a_path, b_path):
    a, meta_a = load_checkpoint(a_path)
    b, meta_b = load_checkpoint(b_path)
    timing = {"train_seconds"}
    assert {k: v for k, v in meta_a["progress"].items() if k not in timing} == \
        {k: v for k, v in meta_b["progress"].items() if k not in timing}
    assert {k: v for k, v in meta_a.items() if k != "progress"} == {k: v for k, v in meta_b.items() if k != "progress"}
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6, msg=key)


def test_resume_after_an_interruption_matches_an_uninterrupted_run(tmp_path):
    """4 pairs, batch 2: 2 steps an epoch. Stopping after 1 step and resuming to 3 steps (across the
    epoch boundary) gives the same state as 3 steps in one go; a last resume finishes the 2 epochs."""
    straight = run(tmp_path, "straight", max_steps=3)
    first = run(tmp_path, "resumed", max_steps=1)
    assert (first["step"], first["epoch"]) == (1, 0)
    second = run(tmp_path, "resumed", max_steps=3)
    assert (second["step"], second["epoch"]) == (3, 1) == (straight["step"], straight["epoch"])
    assert_same_training_state(tmp_path / "straight" / "last.pt", tmp_path / "resumed" / "last.pt")
    _, meta = load_checkpoint(tmp_path / "resumed" / "last.pt")
    assert (meta["format"], meta["task"], meta["network"]) == (trainer.FORMAT, "tracker", {"backbone": "alexnet"})
    assert progress_of(meta) == {"epoch": 1, "epoch_step": 1, "step": 3}
    assert meta["scheduler"]["_last_lr"] == [pytest.approx(1e-5)]  # logspace(-2, -5, 2)[1]
    final = run(tmp_path, "resumed")
    assert (final["step"], final["epoch"]) == (4, 2)
    assert run(tmp_path, "resumed", resume=False, max_steps=1)["step"] == 1  # --no-resume starts over


def test_a_checkpoint_of_the_earlier_format_resumes_exactly(tmp_path):
    """last.pt as tracker training wrote it before the one trainer (no format, task or network; progress of
    epoch, epoch_step and step only) resumes to the state of a run never stopped."""
    run(tmp_path, "old", max_steps=1)
    state, meta = load_checkpoint(tmp_path / "old" / "last.pt")
    earlier = {"progress": progress_of(meta), **{k: meta[k] for k in ("optimizer_groups", "scheduler", "scaler")}}
    save_checkpoint(tmp_path / "old" / "last.pt", state, earlier)
    assert run(tmp_path, "old", max_steps=3)["step"] == 3
    run(tmp_path, "straight", max_steps=3)
    assert_same_training_state(tmp_path / "straight" / "last.pt", tmp_path / "old" / "last.pt")


def test_a_checkpoint_of_another_network_is_refused_in_one_line(tmp_path):
    run(tmp_path, "other", max_steps=1)
    with pytest.raises(ValueError, match=r"last.pt: trained a network of \{'backbone': 'alexnet'\}, not "
                                         r"\{'backbone': 'steerable_alexnet_c4_e2cnn'\}; remove it or train with --no-resume"):
        train_tracker(dict(LOOP_CONFIG, train={"backbone": "steerable_alexnet_c4_e2cnn"}), [photo_source()],
                      tmp_path / "other", batch_size=2, device="cpu", workers=0, max_steps=2, progress=False)


def test_a_run_saved_without_loss_scaling_resumes_where_float16_needs_it(tmp_path, monkeypatch):
    """Started on the CPU (or a bfloat16 GPU: no GradScaler state) and resumed on a GPU that trains in
    float16: the scaler starts afresh instead of refusing the empty state."""
    assert run(tmp_path, "moved", max_steps=1)["step"] == 1
    monkeypatch.setattr(tracker_trainer, "amp_dtype", lambda device, enabled=None: torch.float16)
    assert run(tmp_path, "moved", max_steps=2)["step"] == 2
    assert load_checkpoint(tmp_path / "moved" / "last.pt")[1]["scaler"]  # the float16 run saved its scaler


def test_export_is_a_small_half_precision_tracker_snapshot(tmp_path):
    result = run(tmp_path, "export", epochs=1)
    path = result["export"]
    assert path.stat().st_size < 10e6
    raw = torch.load(path, weights_only=True)
    assert all(v.dtype == torch.float16 for v in raw["state_dict"].values() if v.is_floating_point())
    assert all(k.startswith("backbone.") for k in raw["state_dict"])
    assert raw["meta"]["steps"] == 2 and raw["meta"]["finished"] is True and raw["meta"]["seed"] == 0
    from ientrack.trackers.registry import build_tracker

    tracker = build_tracker("siamfc", weights=str(path), device="cpu")
    image = skimage.data.astronaut()
    boxes, _ = tracker.track([image, image], [200, 100, 60, 60])
    assert np.isfinite(boxes).all()


def test_partial_runs_do_not_replace_the_configs_weights(tmp_path):
    config = dict(LOOP_CONFIG, weights=str(tmp_path / "shipped.pt"))
    result = train_tracker(config, [photo_source()], tmp_path / "run", epochs=2, batch_size=2, device="cpu",
                           workers=0, max_steps=1, progress=False)
    assert result["export"] == tmp_path / "run" / "weights.pt" and result["export"].is_file()
    assert not (tmp_path / "shipped.pt").exists()


def test_settings_come_from_the_configs_train_section():
    settings = TrackerSettings.from_config({"train": {"epochs": 7, "batch_size": 16}}, batch_size=4, lr_start=None)
    assert (settings.epochs, settings.batch_size, settings.lr_start) == (7, 4, 1e-2)
    lrs = 1e-2 * settings.lr_gamma() ** np.arange(7)
    np.testing.assert_allclose(lrs, np.logspace(-2, -5, 7))
    with pytest.raises(ValueError, match="bogus"):
        TrackerSettings.from_config({"name": "x", "train": {"bogus": 1}})


def test_pretrained_backbone_weights_are_loaded(tmp_path):
    torch.manual_seed(1)
    source = build_siamese_net(CONFIG)
    save_checkpoint(tmp_path / "cls.pt", {**{f"backbone.{k}": v for k, v in source.backbone.state_dict().items()},
                                          "classifier.weight": torch.zeros(10, 256)})
    net = build_siamese_net(CONFIG)
    load_pretrained_backbone(net, tmp_path / "cls.pt")
    for a, b in zip(source.backbone.state_dict().values(), net.backbone.state_dict().values()):
        assert torch.equal(a, b)
    save_checkpoint(tmp_path / "other.pt", {"conv.weight": torch.zeros(3, 3)})
    with pytest.raises(ValueError, match="other.pt"):
        load_pretrained_backbone(net, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="missing.pt"):
        load_pretrained_backbone(net, tmp_path / "missing.pt")


def test_a_tuned_trunk_loads_into_a_backbone_with_more_frozen_parts(tmp_path):
    """A file with the stride-8 trunk alone (a tuned trunk) fits a backbone with the stride-16 stage too:
    that stage keeps its built weights, the adjust layer starts fresh; a trunk given in pieces is refused."""
    def deep_net():
        return SiameseNet(EffNetLite0Stride8(pretrained=False, adjust=8, deep=0.7), XCorrHead())
    torch.manual_seed(0)
    tuned = {k: torch.randn_like(v) if v.is_floating_point() else v
             for k, v in deep_net().backbone.state_dict().items() if k.startswith("trunk.")}
    save_checkpoint(tmp_path / "trunk.pt", {f"backbone.{k}": v for k, v in tuned.items()})
    net = deep_net()
    deeper_before = {k: v.clone() for k, v in net.backbone.state_dict().items() if k.startswith("deeper.")}
    load_pretrained_backbone(net, tmp_path / "trunk.pt")
    state = net.backbone.state_dict()
    assert all(torch.equal(state[k], v) for k, v in tuned.items())
    assert all(torch.equal(state[k], v) for k, v in deeper_before.items())
    save_checkpoint(tmp_path / "half.pt", dict(list(tuned.items())[: len(tuned) // 2]))
    with pytest.raises(ValueError, match="half.pt.*missing"):
        load_pretrained_backbone(deep_net(), tmp_path / "half.pt")


def test_mixed_precision_is_on_by_default_on_cuda_only():
    assert amp_dtype(torch.device("cpu")) is None
    assert amp_dtype(torch.device("cpu"), True) == torch.bfloat16
    assert amp_dtype(torch.device("cuda"), False) is None


@pytest.mark.parametrize("native_bf16, expected", [(True, torch.bfloat16), (False, torch.float16)])
def test_gpus_without_native_bfloat16_train_in_float16(monkeypatch, native_bf16, expected):
    # torch reports bfloat16 "supported" on a V100 or T4 by default, where it is only emulated (slow)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: including_emulation or native_bf16)
    assert amp_dtype(torch.device("cuda")) == expected


def test_the_command_line_trains_from_an_image_folder(tmp_path, capsys):
    import runpy
    from pathlib import Path

    import cv2

    main = runpy.run_path(str(Path(__file__).resolve().parents[1] / "tools" / "train.py"))["main"]
    with pytest.raises(SystemExit) as refused:
        main(["--tracker", "siamfc"])
    assert refused.value.code == "train.py: give training data: --data GOT10k-train and/or --image-folder DIR"
    for k, photo in enumerate([skimage.data.astronaut(), skimage.data.chelsea()]):
        cv2.imwrite(str(tmp_path / f"{k}.png"), photo[::2, ::2, ::-1])
    args = ["--tracker", "siamfc", "--image-folder", str(tmp_path), "--batch-size", "2", "--max-steps", "1",
            "--workers", "0", "--device", "cpu", "--out", str(tmp_path / "run"), "--export", str(tmp_path / "w.pt")]
    assert main(args) == 0
    assert (tmp_path / "run" / "last.pt").is_file() and (tmp_path / "w.pt").is_file()


class CtrlCWhileLoading(StillImagePairSource):
    """photo_source()'s photos; loading its ``at``-th pair raises KeyboardInterrupt, as Ctrl-C would."""

    def __init__(self, at: int):
        super().__init__(photo_source().images)
        self.loaded, self.at = 0, at

    def views(self, index, rng):
        self.loaded += 1
        if self.loaded == self.at:
            raise KeyboardInterrupt
        return super().views(index, rng)


def test_ctrl_c_saves_the_step_it_stopped_at_and_a_rerun_continues_exactly(tmp_path):
    """Batch 2: Ctrl-C while the 3rd pair loads stops after step 1 with last.pt of step 1 (not of
    save_every); the rerun goes on to the same state as a run never interrupted."""
    with pytest.raises(TrainingInterrupted) as stopped:
        run(tmp_path, "cut", source=lambda: CtrlCWhileLoading(at=3), max_steps=3)
    assert stopped.value.step == 1 and str(stopped.value) == "interrupted at step 1; rerun the same command to resume"
    _, meta = load_checkpoint(tmp_path / "cut" / "last.pt")
    assert progress_of(meta) == {"epoch": 0, "epoch_step": 1, "step": 1}
    assert run(tmp_path, "cut", max_steps=3)["step"] == 3
    run(tmp_path, "straight", max_steps=3)
    assert_same_training_state(tmp_path / "straight" / "last.pt", tmp_path / "cut" / "last.pt")


def test_the_progress_bar_ends_at_the_steps_done(tmp_path, capsys):
    run(tmp_path, "bar", max_steps=3, progress=True)  # 2 steps an epoch: 2 of epoch 1, then 1 of epoch 2
    err = capsys.readouterr().err
    assert "epoch 1/2: 100%" in err and " 2/2 " in err
    assert "epoch 2/2: 100%" in err and " 1/1 " in err


def test_loader_workers_default_to_the_cpus_available():
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert TrackerSettings().workers == min(4, cpus)
    assert TrackerSettings.from_config({}, workers=None).workers == min(4, cpus)


def train_command():
    return runpy.run_path(str(Path(__file__).resolve().parents[1] / "tools" / "train.py"))["main"]


def write_photos(folder, count=2):
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    for k, photo in enumerate([skimage.data.astronaut(), skimage.data.chelsea()][:count]):
        cv2.imwrite(str(folder / f"{k}.png"), photo[::2, ::2, ::-1])
    return folder


def test_ctrl_c_in_the_command_line_saves_last_pt_and_exits_130(tmp_path, capsys, monkeypatch):
    ctrl_c_at_call(monkeypatch, trainer, "train_step", 2)
    args = ["--tracker", "siamfc", "--image-folder", str(write_photos(tmp_path / "photos")), "--batch-size", "1",
            "--max-steps", "5", "--workers", "0", "--device", "cpu", "--out", str(tmp_path / "run")]
    with pytest.raises(SystemExit) as stopped:
        train_command()(args)
    assert stopped.value.code == 130
    assert capsys.readouterr().err.splitlines()[-1] == "train.py: interrupted at step 1; rerun the same command to resume"
    _, meta = load_checkpoint(tmp_path / "run" / "last.pt")
    assert meta["progress"]["step"] == 1 and not (tmp_path / "run" / "weights.pt").exists()


def test_trackers_with_nothing_to_train_are_refused(tmp_path, capsys):
    """(A frozen extractor without an adjust layer is refused by the trainer: tests/test_effnet_training.py.)"""
    main = train_command()
    with pytest.raises(SystemExit) as refused:
        main(["--tracker", "opencv_mil", "--image-folder", str(tmp_path), "--out", str(tmp_path / "run")])
    err = refused.value.code
    assert "tracker opencv_mil (type " in err and "has nothing to train" in err
    assert "trainable trackers: canon_siamfc, effnet_siamfc, ien_siamfc, re_siamfc, siamfc" in err
    assert not (tmp_path / "run").exists()


def test_too_little_data_for_a_batch_says_what_to_do(tmp_path, capsys):
    """One OTB sequence present (--allow-partial: a one-line warning, no source line) is one pair a
    epoch: no batch of 8, and the message says so instead of a traceback."""
    root = tmp_path / "otb"
    root.mkdir()
    (root / "Biker").symlink_to(shared_path("otb", "Biker"))
    args = ["--tracker", "siamfc", "--data", "Rot-OTB100", "--data-root", str(root), "--allow-partial",
            "--workers", "0", "--device", "cpu", "--out", str(tmp_path / "run")]
    with pytest.raises(SystemExit) as stopped:
        train_command()(args)
    # a user error, as every tool reports one: one line, exit status 1 (sys.exit of the message; not argparse's 2)
    assert stopped.value.code.startswith("train.py: 1 training pairs make no batch of 8 on each of 1 process(es): "
                                         "use a --batch-size of at most 1, or more data")
    err = capsys.readouterr().err
    warning = next(line for line in err.splitlines() if "missing or incomplete" in line)
    assert warning.startswith("warning: ") and "present_sequences" not in err and "UserWarning" not in err
