"""Files written whole or not at all: a temporary file beside the target, then one rename."""
import os
import tempfile
from pathlib import Path


def write_text_atomic(path, text: str) -> Path:
    """Write ``text`` to ``path`` (parents created) so that readers see the old file or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def check_writable(folder, what: str) -> Path:
    """Create ``folder`` (parents too) and check that a file can be written in it, so that a long run stops at
    its start, not at its end; the error names ``what`` the folder is for."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise OSError(f"cannot write {what} in {folder}: {error.strerror or error}") from None
    return folder
