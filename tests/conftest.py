"""Shared fixtures: the real benchmark samples in ../shared/data (tests skip, saying why, without them);
two-process runs on a free port."""
import socket
from pathlib import Path

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
