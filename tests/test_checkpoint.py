"""Checkpoints round-trip tensors and metadata, and a truncated or tampered file is refused without
running anything it carries."""
import os
import pickle

import pytest
import torch

from ientrack.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


class _Payload:
    """Unpickling this object would create a marker file: the attack a checkpoint must not allow."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_round_trip_and_half_precision(tmp_path):
    state = {"w": torch.randn(64, 64), "steps": torch.tensor([7])}
    meta = {"backbone": "alexnet", "epoch": 3, "lr": [0.01, 1e-5], "extra": None}
    save_checkpoint(tmp_path / "full.pt", state, meta)
    loaded, loaded_meta = load_checkpoint(tmp_path / "full.pt")
    assert torch.equal(loaded["w"], state["w"]) and torch.equal(loaded["steps"], state["steps"])
    assert loaded_meta == meta
    save_checkpoint(tmp_path / "half.pt", state, meta, half=True)
    small, _ = load_checkpoint(tmp_path / "half.pt")
    assert small["w"].dtype == torch.float32 and torch.allclose(small["w"], state["w"], atol=2e-3)
    assert os.path.getsize(tmp_path / "half.pt") < os.path.getsize(tmp_path / "full.pt")
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp")]  # atomic write left nothing behind


def test_a_bare_state_dict_loads_with_empty_meta(tmp_path):
    torch.save({"w": torch.ones(2)}, tmp_path / "bare.pt")
    state, meta = load_checkpoint(tmp_path / "bare.pt")
    assert torch.equal(state["w"], torch.ones(2)) and meta == {}


def test_missing_and_truncated_files_are_named(tmp_path):
    with pytest.raises(CheckpointError, match="checkpoint not found: .*nothing.pt"):
        load_checkpoint(tmp_path / "nothing.pt")
    save_checkpoint(tmp_path / "good.pt", {"w": torch.randn(100, 100)})
    data = (tmp_path / "good.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"cut\.pt: not a safe, readable checkpoint"):
        load_checkpoint(tmp_path / "cut.pt")


@pytest.mark.parametrize("writer", ["torch.save", "pickle"])
def test_a_tampered_checkpoint_runs_no_code(tmp_path, writer):
    marker = tmp_path / "pwned"
    evil = {"state_dict": {"w": torch.ones(1)}, "meta": {"x": _Payload(marker)}}
    path = tmp_path / "evil.pt"
    if writer == "torch.save":
        torch.save(evil, path)
    else:
        path.write_bytes(pickle.dumps(evil))
    with pytest.raises(CheckpointError, match=r"evil\.pt"):
        load_checkpoint(path)
    assert not marker.exists()
    if writer == "torch.save":  # the payload is real: an unsafe load does create the marker
        torch.load(path, weights_only=False)
        assert marker.exists()


def test_metadata_must_be_plain_data(tmp_path):
    with pytest.raises(TypeError, match="meta.obj: checkpoint metadata must be plain data"):
        save_checkpoint(tmp_path / "x.pt", {"w": torch.ones(1)}, {"obj": object()})
    with pytest.raises(TypeError, match="not a tensor"):
        save_checkpoint(tmp_path / "x.pt", {"w": [1.0]})
