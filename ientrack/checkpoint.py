"""Safe checkpoints: a tensors-only dict saved atomically, loaded with ``torch.load(weights_only=True)``.

A file holds ``{"state_dict": {name: tensor}, "meta": {...}}`` where ``meta`` is plain data (str, int,
float, bool, None, lists and dicts of those). Loading never runs code from the file: a pickle that
asks for anything beyond tensors and plain containers is refused with a :class:`CheckpointError`.
"""
import os
import re
import tempfile
import warnings

import torch

_PLAIN = (str, int, float, bool, type(None))


class CheckpointError(IOError):
    """A checkpoint that is missing, truncated, tampered with or not in the expected layout."""


def _check_plain(value, where):
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where}: keys must be strings, got {k!r}")
            _check_plain(v, f"{where}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_plain(v, f"{where}[{i}]")
    elif not isinstance(value, _PLAIN):
        raise TypeError(f"{where}: checkpoint metadata must be plain data, got {type(value).__name__}")


def save_checkpoint(path, state_dict, meta=None, half: bool = False) -> None:
    """Write ``state_dict`` (tensors) and ``meta`` (plain data) to ``path`` atomically.

    ``half=True`` stores floating tensors in float16 (for shipping); :func:`load_checkpoint` returns
    them as float32.
    """
    meta = dict(meta or {})
    _check_plain(meta, "meta")
    tensors = {}
    for name, t in state_dict.items():
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"state_dict[{name!r}] is {type(t).__name__}, not a tensor")
        t = t.detach().cpu()
        tensors[name] = t.half() if half and t.is_floating_point() else t.clone()
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".pt")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({"state_dict": tensors, "meta": meta}, f)
        os.chmod(tmp, 0o644)  # mkstemp makes owner-only files; weights are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _why_unreadable(path: str, error: Exception) -> str:
    """What is wrong with a file that ``torch.load(weights_only=True)`` refused, in one sentence (torch's own
    message is pages long and suggests loading with ``weights_only=False``, which would run the file's code)."""
    with open(path, "rb") as f:
        head = f.read(4)
    if not head:
        return "the file is empty"
    if not head.startswith(b"PK\x03\x04") and head[:1] != b"\x80":
        return "it is neither the zip archive torch.save writes nor a pickle"
    asked = re.search(r"GLOBAL ([\w.]+)", str(error))
    if asked:
        return (f"it asks for {asked.group(1)} when loaded, and a checkpoint may hold only tensors and plain data "
                "(anything else could run code), so it is refused")
    if "zip archive" in str(error) or isinstance(error, EOFError):
        return "it is truncated or damaged (its archive cannot be read)"
    return ("it holds something other than tensors and plain data (anything else could run code), so it is "
            "refused")


def load_weights_only(path, map_location="cpu"):
    """What ``torch.load(path, weights_only=True)`` returns, or a one-line :class:`CheckpointError` naming the
    file and what is wrong with it (missing, empty, not a checkpoint, truncated, asking to run code)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Detected pickle protocol")  # torch's note on old pickles
            return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # truncated zip, refused global, unpickling error: all unsafe or broken
        raise CheckpointError(f"{path}: not a safe, readable checkpoint: {_why_unreadable(path, error)}") from None


def load_checkpoint(path, map_location="cpu"):
    """``(state_dict, meta)`` from ``path``; floating tensors come back as float32.

    Also accepts a bare ``{name: tensor}`` dict (meta is then ``{}``). Raises :class:`CheckpointError`
    naming the file when it is missing, truncated, not a checkpoint, or holds anything that would run code.
    """
    path = os.fspath(path)
    obj = load_weights_only(path, map_location)
    if isinstance(obj, dict) and "state_dict" in obj:
        state, meta = obj["state_dict"], obj.get("meta", {})
    else:
        state, meta = obj, {}
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: expected a dict of tensors, got {type(state).__name__}")
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    return state, dict(meta) if isinstance(meta, dict) else {}
