"""The package stands alone: a wheel built from the sources carries the tracker zoo (configs, weights,
model cards), and the package unpacked from it, run from another folder, builds every shipped tracker
from its own files (the zoo is package data, not the repository's folder)."""
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ientrack.trackers.registry import zoo_dir

ROOT = Path(__file__).resolve().parents[1]


def without_ientrack_settings(environ) -> dict:
    return {k: v for k, v in environ.items() if not k.startswith("IENTRACK_")}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """A wheel of the sources, built in a copy of them (the checkout gets no build folders)."""
    tmp = tmp_path_factory.mktemp("wheel")
    shutil.copytree(ROOT / "ientrack", tmp / "src" / "ientrack", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "setup.py", tmp / "src" / "setup.py")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp / "dist"), str(tmp / "src")], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return next((tmp / "dist").glob("ientrack-*.whl"))


def test_the_wheel_carries_the_whole_zoo(wheel):
    shipped = {f"ientrack/zoo/{p.name}" for p in zoo_dir().iterdir() if p.suffix in (".yaml", ".pt", ".md")}
    assert len(shipped) >= 12
    assert shipped <= set(zipfile.ZipFile(wheel).namelist())


def test_the_installed_package_builds_every_shipped_tracker_from_another_folder(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import ientrack, cv2\n"
        "from ientrack.trackers.registry import zoo_dir\n"
        "print(ientrack.__file__, zoo_dir())\n"
        "contrib = hasattr(cv2, 'TrackerKCF') or hasattr(cv2, 'legacy')\n"
        "for name in ientrack.available_trackers():\n"
        "    if name in ('opencv_kcf', 'opencv_csrt') and not contrib:\n"
        "        continue\n"
        "    print(name, type(ientrack.build_tracker(name, device='cpu')).__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=elsewhere, capture_output=True, text=True,
                          timeout=600, env={**without_ientrack_settings(os.environ), "PYTHONPATH": str(site)})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    package_file, zoo = lines[0].split()
    assert Path(package_file).is_relative_to(site) and Path(zoo) == site / "ientrack" / "zoo"
    built = dict(line.split() for line in lines[1:])
    assert {"siamfc", "ien_siamfc", "re_siamfc", "effnet_siamfc", "canon_siamfc", "opencv_mil"} <= set(built)
