"""The CC0 photos of the built-in benchmark: files shipped inside the installed scikit-image wheel.

They are read straight from the ``skimage/data`` package folder with OpenCV, never through
``skimage.data.<name>()``, so nothing can trigger a pooch download: a missing file is an error that names it.
"""
import hashlib
import importlib.util
import os
from functools import lru_cache
from typing import Dict

import cv2
import numpy as np

from ientrack.data.frames import to_rgb_uint8

# name -> file in skimage/data (all shipped in the wheel since scikit-image 0.19, public domain / CC0)
PHOTO_FILES: Dict[str, str] = {
    "astronaut": "astronaut.png",
    "brick": "brick.png",
    "camera": "camera.png",
    "chelsea": "chelsea.png",
    "coffee": "coffee.png",
    "coins": "coins.png",
    "grass": "grass.png",
    "gravel": "gravel.png",
    "hubble_deep_field": "hubble_deep_field.jpg",
    "immunohistochemistry": "ihc.png",
    "motorcycle_left": "motorcycle_left.png",
    "motorcycle_right": "motorcycle_right.png",
    "rocket": "rocket.jpg",
    "text": "text.png",
}
BACKGROUNDS = ("coffee", "rocket", "motorcycle_left", "hubble_deep_field", "immunohistochemistry",
               "astronaut", "grass", "gravel")
TARGETS = ("chelsea", "astronaut", "coffee", "motorcycle_right", "camera", "coins", "rocket")
OCCLUDERS = ("brick", "gravel", "text", "grass")  # not page.png: libpng warns about its ICC profile


def skimage_data_dir() -> str:
    """The ``skimage/data`` folder of the installed scikit-image (found without importing it)."""
    spec = importlib.util.find_spec("skimage.data")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("scikit-image is not installed: the built-in benchmark needs its sample photos "
                                "(pip install scikit-image)")
    return os.path.dirname(spec.origin)


def photo_path(name: str) -> str:
    """Path of the photo ``name``; raises ``FileNotFoundError`` naming the file when the wheel lacks it."""
    if name not in PHOTO_FILES:
        raise KeyError(f"unknown built-in photo {name!r}; known: {', '.join(sorted(PHOTO_FILES))}")
    path = os.path.join(skimage_data_dir(), PHOTO_FILES[name])
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} is missing from the installed scikit-image; the built-in benchmark uses "
                                "only photos shipped in its wheel (reinstall scikit-image)")
    return path


@lru_cache(maxsize=None)
def load_photo(name: str) -> np.ndarray:
    """The photo ``name`` as RGB ``uint8`` (grayscale photos are repeated over three channels); read-only."""
    path = photo_path(name)
    image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise FileNotFoundError(f"{path}: cannot be decoded as an image")
    if image.ndim == 3:
        image = cv2.cvtColor(image[:, :, :3], cv2.COLOR_BGR2RGB)
    image = to_rgb_uint8(image, path)
    image.setflags(write=False)
    return image


def photos_digest(names) -> str:
    """SHA-256 of the photo files ``names`` (part of the cache key: new photos give a new cache)."""
    digest = hashlib.sha256()
    for name in sorted(set(names)):
        with open(photo_path(name), "rb") as f:
            digest.update(name.encode() + b"\0" + f.read())
    return digest.hexdigest()
