"""Ctrl-C during training: the canonicalizer's loop saves its step; the training commands exit with one line
and status 130, and print warnings as one line."""
import runpy
import warnings
from pathlib import Path

import cv2
import pytest
import skimage.data

from conftest import ctrl_c_at_call
from ientrack.checkpoint import load_checkpoint
from ientrack.train import canon_actor
from ientrack.train.canon_trainer import train_canonicalizer
from ientrack.train.settings import CanonSettings
from ientrack.cli import tool_main
from ientrack.train.interrupt import TrainingInterrupted

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"trunk": "small", "group": "C4", "size": 16, "search": True}


def ctrl_c_at_step(monkeypatch, step: int):
    """Ctrl-C as the canonicalizer's ``step``-th batch is drawn."""
    ctrl_c_at_call(monkeypatch, canon_actor, "batch_terms", step)


def test_ctrl_c_saves_the_canonicalizers_step_and_a_rerun_continues(tmp_path, monkeypatch):
    photos = [skimage.data.astronaut()[::8, ::8], skimage.data.coffee()[::8, ::8]]
    config = CanonSettings(canonicalizer=SMALL, steps=12, batch_size=2, save_every=6)
    ctrl_c_at_step(monkeypatch, 5)
    with pytest.raises(TrainingInterrupted) as stopped:
        train_canonicalizer(photos, config, checkpoint=tmp_path / "c.pt", progress=False)
    assert stopped.value.step == 4 and load_checkpoint(tmp_path / "c.pt")[1]["progress"]["step"] == 4
    monkeypatch.undo()
    _, losses = train_canonicalizer(photos, config, checkpoint=tmp_path / "c.pt", progress=False)
    assert len(losses) == 8 and load_checkpoint(tmp_path / "c.pt")[1]["progress"]["step"] == 12
    with pytest.raises(KeyboardInterrupt) as plain:  # no checkpoint: nothing saved, nothing to resume
        ctrl_c_at_step(monkeypatch, 1)
        train_canonicalizer(photos, config, progress=False)
    assert not isinstance(plain.value, TrainingInterrupted)


def test_the_canonicalizer_command_exits_130_saying_how_to_resume(tmp_path, capsys, monkeypatch):
    for k, photo in enumerate([skimage.data.astronaut(), skimage.data.coffee()]):
        cv2.imwrite(str(tmp_path / f"{k}.png"), photo[::8, ::8, ::-1])
    main = runpy.run_path(str(ROOT / "tools" / "train_canonicalizer.py"))["main"]
    ctrl_c_at_step(monkeypatch, 3)
    with pytest.raises(SystemExit) as stopped:
        main(["--images", str(tmp_path), "--trunk", "small", "--size", "16", "--steps", "6", "--batch", "2",
              "--save-every", "100", "--checkpoint", str(tmp_path / "c.pt"), "--device", "cpu"])
    assert stopped.value.code == 130
    assert capsys.readouterr().err.splitlines()[-1] == \
        "train_canonicalizer.py: interrupted at step 2; rerun the same command to resume"
    assert load_checkpoint(tmp_path / "c.pt")[1]["progress"]["step"] == 2


def test_a_tool_prints_warnings_as_one_line_and_exits_130_on_ctrl_c(capsys):
    @tool_main(on_interrupt="rerun to go on")
    def main():
        warnings.warn("3 of 100 sequences are missing")
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 130
    assert capsys.readouterr().err == "warning: 3 of 100 sequences are missing\n\ntest_training_interrupt.py: interrupted; rerun to go on\n"
