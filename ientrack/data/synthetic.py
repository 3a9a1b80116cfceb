"""The built-in benchmarks ``Builtin`` (rotating, scaling, occluded targets cut from real photos) and
``Builtin-still`` (targets that stay upright but tilt out of the image plane), no download.

Sequences are generated deterministically (fixed seeds) from the CC0 photos shipped with scikit-image (see
:mod:`ientrack.data.synthetic_scene` for what a scene holds) on first use into a cache folder
``<cache root>/builtin-<key>/``, where the cache root is the ``cache_dir`` argument, else ``$IENTRACK_CACHE``,
else ``~/.cache/ientrack``, and ``<key>`` hashes the generator version, the configuration and the photos.
Generation writes into a temporary folder renamed into place at the end, so an interrupted run never
leaves a half cache.

Layout of one sequence: ``<name>/img/0001.jpg ...``, ``groundtruth_rect.txt`` (0-based ``x,y,w,h``
envelope boxes), ``polygons.txt`` (the target's rotated rectangle, 8 numbers a row) and ``angles.txt``
(degrees counter-clockwise as displayed, relative to frame 0). Frames are JPEG (quality 90) like the real
benchmarks (OTB, GOT-10k), about 25 kB a frame against ~130 kB for PNG (20 MB for the default 800 frames); the ground truth is computed from
the geometry, not from the pixels, so compression does not touch it.
"""
import hashlib
import json
import os
import shutil
import tempfile
import time
from typing import Optional, Tuple

import cv2
import numpy as np
from tqdm import tqdm

from ientrack.data.gt_files import read_boxes, read_rows
from ientrack.data.sequence import Dataset, Sequence
from ientrack.data.synthetic_photos import PHOTO_FILES, photos_digest
from ientrack.data.synthetic_scene import FAMILIES, plan_scene, render_frame

GENERATOR_VERSION = 1
JPEG_QUALITY = 90
CACHE_ENV = "IENTRACK_CACHE"
MANIFEST = "manifest.json"


def default_cache_root() -> str:
    """``$IENTRACK_CACHE`` if set, else ``~/.cache/ientrack``."""
    return os.environ.get(CACHE_ENV) or os.path.join(os.path.expanduser("~"), ".cache", "ientrack")


def builtin_config(num_sequences: int, num_frames: int, frame_size, seed: int, family: str = "turning") -> dict:
    """The validated configuration (plus generator version and JPEG quality) that defines a benchmark."""
    frame_size = tuple(int(v) for v in frame_size)
    if num_sequences < 1 or num_frames < 2 or len(frame_size) != 2 or min(frame_size) < 64:
        raise ValueError(f"built-in benchmark: need num_sequences >= 1, num_frames >= 2 and a frame_size (W, H) "
                         f"of at least 64 x 64, got {num_sequences}, {num_frames}, {frame_size}")
    if family not in FAMILIES:
        raise ValueError(f"built-in benchmark: family must be one of {sorted(FAMILIES)}, got {family!r}")
    return {"version": GENERATOR_VERSION, "num_sequences": int(num_sequences), "num_frames": int(num_frames),
            "frame_size": list(frame_size), "seed": int(seed), "family": family, "jpeg_quality": JPEG_QUALITY}


def cache_key(config: dict) -> str:
    """12 hex digits naming a configuration's cache: the configuration, the photos' bytes and the versions of
    the libraries that draw and encode the frames."""
    text = json.dumps(config, sort_keys=True) + photos_digest(PHOTO_FILES) + np.__version__ + cv2.__version__
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _write_rows(path: str, rows: np.ndarray):
    np.savetxt(path, np.asarray(rows).reshape(len(rows), -1), fmt="%.4f", delimiter=",")


def generate_builtin(folder: str, config: dict, progress: bool = True):
    """Write every sequence of ``config`` into ``folder`` (frames, ground truth, then the manifest)."""
    n, count = config["num_frames"], config["num_sequences"]
    manifest = dict(config, sequences=[])
    with tqdm(total=n * count, desc="generating Builtin", unit="frame", disable=None if progress else True) as bar:
        for index in range(count):
            scene = plan_scene(index, n, tuple(config["frame_size"]), config["seed"], config["family"])
            img_dir = os.path.join(folder, scene.name, "img")
            os.makedirs(img_dir)
            for t in range(n):
                bgr = cv2.cvtColor(render_frame(scene, t).image, cv2.COLOR_RGB2BGR)
                ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, config["jpeg_quality"]])
                if not ok:
                    raise IOError(f"cannot encode frame {t} of {scene.name} as JPEG")
                data.tofile(os.path.join(img_dir, f"{t + 1:04d}.jpg"))
                bar.update(1)
            seq_dir = os.path.join(folder, scene.name)
            _write_rows(os.path.join(seq_dir, "groundtruth_rect.txt"), scene.gt)
            _write_rows(os.path.join(seq_dir, "polygons.txt"), scene.polygons)
            _write_rows(os.path.join(seq_dir, "angles.txt"), scene.angles)
            manifest["sequences"].append({"name": scene.name, "attributes": scene.attributes})
    with open(os.path.join(folder, MANIFEST), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)


def _remove_stale_temporaries(root: str, prefix: str, max_age_s: float = 3600.0):
    """Delete ``prefix*`` folders older than ``max_age_s`` left in ``root`` by a killed generation."""
    now = time.time()
    for name in os.listdir(root):
        path = os.path.join(root, name)
        if name.startswith(prefix) and os.path.isdir(path) and now - os.path.getmtime(path) > max_age_s:
            shutil.rmtree(path, ignore_errors=True)


def _read_sequence(folder: str, name: str, attributes, num_frames: int) -> Sequence:
    seq_dir = os.path.join(folder, name)
    frames = [os.path.join(seq_dir, "img", f"{t + 1:04d}.jpg") for t in range(num_frames)]
    angles = np.array(read_rows(os.path.join(seq_dir, "angles.txt"), widths=(1,))).reshape(-1)
    polygons = np.array(read_rows(os.path.join(seq_dir, "polygons.txt"), widths=(8,)))
    gt = read_boxes(os.path.join(seq_dir, "groundtruth_rect.txt"))
    for what, rows in (("angles.txt", angles), ("polygons.txt", polygons), ("groundtruth_rect.txt", gt)):
        if len(rows) != num_frames:
            raise ValueError(f"{os.path.join(seq_dir, what)}: {len(rows)} rows for {num_frames} frames; delete "
                             f"{folder} to regenerate the built-in benchmark")
    return Sequence(name=name, frame_paths=frames, gt=gt, attributes=list(attributes), polygons=polygons,
                    angles=angles, one_based=False)


def load_builtin(cache_dir: Optional[str] = None, num_sequences: int = 8, num_frames: int = 100,
                 frame_size: Tuple[int, int] = (320, 240), seed: int = 0, family: str = "turning",
                 progress: bool = True) -> Dataset:
    """A built-in dataset, generated into ``<cache root>/builtin-<key>/`` on first use (see module doc).

    ``cache_dir``: the cache root (default ``$IENTRACK_CACHE`` or ``~/.cache/ientrack``); the other
    arguments define the benchmark (8 sequences of 100 frames of 320 x 240 by default, ``family`` the
    presets of :mod:`ientrack.data.synthetic_scene`) and its cache key.
    """
    config = builtin_config(num_sequences, num_frames, frame_size, seed, family)
    root = cache_dir or default_cache_root()
    folder = os.path.join(root, f"builtin-{cache_key(config)}")
    if not os.path.isfile(os.path.join(folder, MANIFEST)):
        os.makedirs(root, exist_ok=True)
        prefix = f".{os.path.basename(folder)}-"
        _remove_stale_temporaries(root, prefix)
        temporary = tempfile.mkdtemp(prefix=prefix, dir=root)
        try:
            generate_builtin(temporary, config, progress)
            os.chmod(temporary, 0o755)  # mkdtemp makes it private
            try:
                os.rename(temporary, folder)
            except OSError:  # another process finished first, or a broken folder is in the way
                if not os.path.isfile(os.path.join(folder, MANIFEST)):
                    raise IOError(f"cannot move the generated benchmark to {folder}: the folder exists without "
                                  f"{MANIFEST}; delete it and retry") from None
        finally:
            shutil.rmtree(temporary, ignore_errors=True)
    with open(os.path.join(folder, MANIFEST), "r", encoding="utf-8") as f:
        manifest = json.load(f)
    sequences = [_read_sequence(folder, s["name"], s["attributes"], manifest["num_frames"])
                 for s in manifest["sequences"]]
    return Dataset("Builtin", sequences)
