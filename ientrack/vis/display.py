"""Showing frames: a live OpenCV window where a display exists, a video file per sequence where not."""
import os
import sys

import cv2
import numpy as np


def display_available() -> bool:
    """True where an OpenCV window can open: a display is set and OpenCV was built with a GUI backend."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    info = cv2.getBuildInformation()
    gui = info.split("GUI:", 1)[1].splitlines()[0].strip() if "GUI:" in info else "NONE"
    return gui.upper() not in ("NONE", "")


class VideoSink:
    """Writes RGB frames to ``path`` (mp4v; ``.mp4`` added where it has no extension) or, where OpenCV
    cannot, to the same name with ``.avi`` (MJPG); ``path`` is the file written once the first frame is in.

    The file is written under a temporary name and renamed on ``close`` so that an interrupted run
    never leaves a truncated video that looks finished.
    """

    def __init__(self, path: str, fps: float = 25.0):
        self.path = path
        self.fps = fps
        self.writer = None
        self.tmp_path = None

    def _open(self, shape):
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        h, w = shape[:2]
        base, ext = os.path.splitext(self.path)
        tried = []
        for codec, suffix in (("mp4v", ext or ".mp4"), ("MJPG", ".avi")):
            path, tmp_path = base + suffix, base + ".part" + suffix
            writer = cv2.VideoWriter(tmp_path, cv2.VideoWriter_fourcc(*codec), self.fps, (w, h))
            if writer.isOpened():
                self.writer, self.size, self.path, self.tmp_path = writer, (w, h), path, tmp_path
                return
            writer.release()
            tried.append(f"{path} ({codec})")
        raise RuntimeError(f"OpenCV cannot write the video {self.path}: tried {' and '.join(tried)}")

    def write(self, rgb: np.ndarray) -> None:
        if self.writer is None:
            self._open(rgb.shape)
        if (rgb.shape[1], rgb.shape[0]) != self.size:  # frames of changing size are resized to the first
            rgb = cv2.resize(rgb, self.size)
        self.writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()
            os.replace(self.tmp_path, self.path)
            self.writer = None


class Window:
    """A live OpenCV window; ``show`` returns False once the user presses q or Esc."""

    def __init__(self, title: str = "ientrack"):
        self.title = title

    def show(self, rgb: np.ndarray, wait_ms: int = 1) -> bool:
        cv2.imshow(self.title, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        return (cv2.waitKey(wait_ms) & 0xFF) not in (ord("q"), 27)

    def close(self) -> None:
        cv2.destroyWindow(self.title)
