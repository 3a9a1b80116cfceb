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
