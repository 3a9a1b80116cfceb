"""Every bad input of tests/bad_inputs.py through the real command line: the exit code, exactly one line on
stderr besides the warnings the case expects (each ``warning: ...`` on one line), no traceback anywhere,
and nothing lost: finished results still on disk, nothing written that a failed run must not leave."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bad_inputs import CASES

ROOT = Path(__file__).resolve().parents[1]


def run_tool(args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": ""}
    env.pop("IENTRACK_TRACEBACK", None)
    return subprocess.run([sys.executable, str(ROOT / "tools" / args[0]), *args[1:]], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_ends_in_one_line(case, tmp_path):
    if case.needs_no_cuda:
        import torch
        if torch.cuda.is_available():
            pytest.skip("this machine has CUDA")
    args = case.build(tmp_path)
    done = run_tool(args, tmp_path)
    told = f"exit {done.returncode}\nstdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stdout + done.stderr, told
    assert done.returncode == case.code, told
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    warnings = [line for line in lines if line.startswith("warning: ")]
    others = [line for line in lines if not line.startswith("warning: ")]
    if case.warning is None:
        assert warnings == [], told
    else:
        assert len(warnings) == 1 and re.search(case.warning, warnings[0]), told
    if case.line is None:
        assert others == [], told
    else:
        assert len(others) == 1 and others[0].startswith(f"{args[0]}: ") and re.search(case.line, others[0]), told
    for path in case.kept:
        assert (tmp_path / path).exists(), f"{path} was lost\n{told}"
    for path in case.absent:
        assert not (tmp_path / path).exists(), f"{path} should not exist\n{told}"
