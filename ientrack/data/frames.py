"""Reading frames from disk as RGB uint8, with clear errors for missing or corrupt files."""
import os

import cv2
import numpy as np


class FrameError(IOError):
    """A frame that cannot be read: missing, corrupt or of an unsupported format."""


def to_rgb_uint8(image: np.ndarray, source: str = "<array>") -> np.ndarray:
    """Convert grayscale, RGBA and 16-bit images to RGB ``uint8`` (``H x W x 3``)."""
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype in (np.float32, np.float64):
        image = np.clip(image * (255.0 if image.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise FrameError(f"{source}: unsupported pixel type {image.dtype}")
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    elif image.ndim == 3 and image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]
    if image.ndim != 3 or image.shape[2] != 3:
        raise FrameError(f"{source}: unsupported image shape {image.shape}")
    return np.ascontiguousarray(image)


# the first bytes of the image formats frames come in, to say which one a damaged file was meant to be
_SIGNATURES = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG", b"BM": "BMP", b"RIFF": "WebP",
               b"II*\x00": "TIFF", b"MM\x00*": "TIFF"}


def _format_of(head: bytes):
    """The image format whose signature ``head`` starts with, or None."""
    return next((name for signature, name in _SIGNATURES.items() if head.startswith(signature)), None)


def _jpeg_is_complete(path: str) -> bool:
    """A JPEG ends with the end-of-image marker FF D9 (within trailing padding some encoders add).

    OpenCV decodes a JPEG cut short after its headers into a partly grey image with only a warning
    on stderr, so truncation must be checked before decoding."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - 4096))
        return b"\xff\xd9" in f.read()


def read_frame(path: str) -> np.ndarray:
    """Read an image file as RGB ``uint8``; raises :class:`FrameError` naming the file and what is wrong."""
    if not os.path.isfile(path):
        raise FrameError(f"frame not found: {path}")
    with open(path, "rb") as f:
        head = f.read(16)
    kind = _format_of(head)
    if kind == "JPEG" and not _jpeg_is_complete(path):
        raise FrameError(f"frame is truncated (a JPEG without its end marker): {path}")
    image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        if kind is not None:
            raise FrameError(f"frame is a damaged {kind} that cannot be decoded: {path}")
        what = "the file is empty" if not head else f"it starts with {head[:8].hex(' ')}, no image format's signature"
        raise FrameError(f"frame is not an image ({what}): {path}")
    if image.ndim == 3 and image.shape[2] >= 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA if image.shape[2] == 4 else cv2.COLOR_BGR2RGB)
    return to_rgb_uint8(image, path)
