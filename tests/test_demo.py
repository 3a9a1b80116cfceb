"""tools/demo.py on real frames: an initial box not in the frame is one clear line for every tracker (MIL used
to spin forever on it), running with nothing to show or save is a warning, and an output that cannot be
written is named as the user gave it."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import shared_path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import demo as demo_cli  # noqa: E402


def test_a_box_outside_the_frame_is_one_line_not_a_hang(tmp_path):
    frames = shared_path("otb", "Football1", "img")
    out = tmp_path / "x.mp4"
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "demo.py"), "--tracker", "opencv_mil", "--source",
                           str(frames), "--box", "1000,1000,26,43", "--max-frames", "5", "--output", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "the initial box [1000.0, 1000.0, 26.0, 43.0] lies outside the 352x288 frame" in done.stderr
    assert not out.exists()


def test_siamfc_refuses_a_box_outside_the_frame_too():
    frames = shared_path("otb", "Football1", "img")
    with pytest.raises(SystemExit, match=r"initial box \[1000.0, 1000.0, 26.0, 43.0\] lies outside the 352x288"):
        demo_cli.main(["--tracker", "siamfc", "--device", "cpu", "--source", str(frames), "--box", "1000,1000,26,43",
                       "--no-window", "--max-frames", "3"])


def test_no_display_and_no_output_is_a_warning(monkeypatch, capsys):
    monkeypatch.setattr("ientrack.vis.demo.display_available", lambda: False)
    demo_cli.main(["--source", str(shared_path("otb", "Football1", "img")), "--box", "153,105,26,43",
                   "--max-frames", "3"])
    captured = capsys.readouterr()
    assert "no display (or --no-window) and no --output: nothing will be shown or saved" in captured.err
    assert "opencv_mil: 3 frames" in captured.out


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc, a folder where no file can be created")
def test_an_unwritable_output_is_named_as_given():
    with pytest.raises(SystemExit, match=r"cannot write the video /proc/ientrack_demo.mp4: tried "
                                         r"/proc/ientrack_demo.mp4 \(mp4v\) and /proc/ientrack_demo.avi \(MJPG\)"):
        demo_cli.main(["--source", str(shared_path("otb", "Football1", "img")), "--box", "153,105,26,43",
                       "--output", "/proc/ientrack_demo.mp4", "--no-window", "--max-frames", "3"])
