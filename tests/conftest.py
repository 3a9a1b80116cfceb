"""Shared fixtures: the real benchmark samples in ../shared/data (tests skip, saying why, without them), a
small pysot-style benchmark cut from them; two-process runs on a free port."""
import json
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_path(*parts) -> Path:
    """A path under ../shared/data, or a skip naming what is missing."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real sample data not found at {path} (../shared/data is absent in a plain clone)")
    return path


@pytest.fixture
def shared_data():
    return shared_path()


SMALL_BENCHMARK_FRAMES = 12


@pytest.fixture
def small_benchmark(tmp_path):
    """Two real OTB sequences cut to 12 frames, described by a pysot-style JSON file."""
    annotations = {}
    for name in ("Couple", "Crossing"):
        source = shared_path("otb", name)
        (tmp_path / "frames" / name).mkdir(parents=True)
        names = [f"{i:04d}.jpg" for i in range(1, SMALL_BENCHMARK_FRAMES + 1)]
        for file in names:
            shutil.copy(source / "img" / file, tmp_path / "frames" / name / file)
        gt = np.loadtxt(source / "groundtruth_rect.txt", delimiter="\t")[:SMALL_BENCHMARK_FRAMES]
        annotations[name.lower()] = {"name": name, "img_names": [f"{name}/{f}" for f in names],
                                     "gt_rect": gt.tolist(), "init_rect": gt[0].tolist(), "attr": ["SV"]}
    path = tmp_path / "Small.json"
    path.write_text(json.dumps(annotations))
    return tmp_path, path


def ctrl_c_at_call(monkeypatch, owner, name: str, call: int):
    """Make ``owner.name`` raise KeyboardInterrupt on its ``call``-th call, as a Ctrl-C at that point would."""
    real, calls = getattr(owner, name), []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, interrupted)


def spawn_on_a_free_port(worker, args, nprocs: int = 2, attempts: int = 3):
    """``torch.multiprocessing.spawn(worker, (port, *args))``, ``port`` a free localhost port for the
    process group's store; again with another port where one was taken between choosing and binding it
    (under ``pytest -n`` other tests' processes open ports beside these)."""
    import torch.multiprocessing as mp

    for attempt in range(attempts):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            return mp.spawn(worker, args=(port, *args), nprocs=nprocs, join=True)
        except mp.ProcessRaisedException as error:
            if "address already in use" not in str(error).lower() or attempt == attempts - 1:
                raise
