"""Shared fixtures: the real benchmark samples in ../shared/data (tests skip, saying why, without them)."""
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
