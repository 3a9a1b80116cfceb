"""Frame sources for the demo: a video file, a camera index, or a folder of frames (RGB uint8)."""
import glob
import os

import cv2

from ientrack.data.frames import read_frame

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")


def frame_source(spec: str):
    """Yield RGB frames from ``spec``: a folder of images (sorted by name), a video file, or a camera
    index such as ``0``. Raises ``FileNotFoundError`` naming ``spec`` when nothing can be opened."""
    if os.path.isdir(spec):
        files = sorted(f for f in glob.glob(os.path.join(spec, "*")) if f.lower().endswith(IMAGE_EXTENSIONS))
        if not files:
            raise FileNotFoundError(f"{spec}: folder holds no images ({', '.join(IMAGE_EXTENSIONS)})")
        for path in files:
            yield read_frame(path)
        return
    if spec.isdigit():
        capture = cv2.VideoCapture(int(spec))
    elif os.path.isfile(spec):
        capture = cv2.VideoCapture(spec)
    else:
        raise FileNotFoundError(f"{spec}: no such video file, image folder or camera index")
    if not capture.isOpened():
        raise FileNotFoundError(f"{spec}: OpenCV cannot open this video or camera")
    try:
        while True:
            ok, bgr = capture.read()
            if not ok:
                return
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    finally:
        capture.release()
