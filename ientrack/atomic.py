"""Files written whole or not at all: a temporary file beside the target, then one rename."""
import errno
import os
import tempfile
from pathlib import Path


def _umask() -> int:
    """The process's file-creation mask (read by setting it, then restoring it at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_text_atomic(path, text: str) -> Path:
    """Write ``text`` to ``path`` (parents created) so that readers see the old file or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes owner-only files; give the mode open() would
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def check_writable(folder, what: str) -> Path:
    """Create ``folder`` (parents too) and check that a file can be written in it, so that a long run stops at
    its start, not at its end; the error names ``what`` the folder is for and what is wrong with the path."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise OSError(f"cannot write {what} in {folder}: {_what_is_wrong(folder, error)}") from None
    return folder


def _what_is_wrong(folder: Path, error: OSError) -> str:
    """The cause of ``error`` (raised creating or writing in ``folder``), told in terms of the path."""
    dangling = next((p for p in (folder, *folder.parents) if p.is_symlink() and not p.exists()), None)
    if dangling is not None:
        return f"{dangling} is a link to {os.readlink(dangling)}, which does not exist"
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, not a folder"
    denied = f"no permission to write in {existing}"
    causes = {errno.EACCES: denied, errno.EPERM: denied,
              errno.EROFS: f"{existing} is on a read-only file system",
              errno.ENOSPC: f"no space left on the disk holding {existing}",
              errno.ENAMETOOLONG: "the path or one of its names is too long"}
    return causes.get(error.errno, error.strerror or str(error))
