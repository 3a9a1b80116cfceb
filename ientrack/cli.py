"""How the command-line tools end on a user's mistake or a Ctrl-C: one line naming the problem (the file, the
setting, the sequence), never a traceback, and exit codes a script can test (1: an error, 130: interrupted).

Set ``IENTRACK_TRACEBACK=1`` to see the full traceback instead (for a bug report).
"""
import functools
import os
import sys

# missing, unreadable or unwritable files (CheckpointError, FrameError), bad settings or data (ValueError,
# AnnotationError, DatasetNotFoundError), a tracker that failed on a sequence or a missing device (RuntimeError)
USER_ERRORS = (OSError, ValueError, RuntimeError)


def tool_main(on_interrupt: str = ""):
    """Decorate a tool's ``main``: a user error exits with ``<tool>: <message>``, Ctrl-C with
    ``<tool>: interrupted`` and ``on_interrupt`` (what was kept and how to go on)."""
    def decorate(main):
        tool = os.path.basename(main.__code__.co_filename)

        @functools.wraps(main)
        def guarded(*args, **kwargs):
            try:
                return main(*args, **kwargs)
            except KeyboardInterrupt:
                if os.environ.get("IENTRACK_TRACEBACK"):
                    raise
                print(f"\n{tool}: interrupted" + (f"; {on_interrupt}" if on_interrupt else ""), file=sys.stderr)
                sys.exit(130)
            except USER_ERRORS as error:
                if os.environ.get("IENTRACK_TRACEBACK"):
                    raise
                sys.exit(f"{tool}: {error}")
        return guarded
    return decorate
