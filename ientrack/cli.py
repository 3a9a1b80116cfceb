"""How the command-line tools talk to a user: a mistake or a Ctrl-C ends with one line naming the problem (the
file, the setting, the sequence) or what was kept, never a traceback, with exit codes a script can test
(1: an error, 130: interrupted); warnings print as one ``warning: ...`` line, without a source line.

Set ``IENTRACK_TRACEBACK=1`` to see the full traceback instead (for a bug report).
"""
import argparse
import functools
import os
import sys
import warnings

# missing, unreadable or unwritable files (CheckpointError, FrameError), bad settings or data (ValueError,
# AnnotationError, DatasetNotFoundError), a tracker that failed on a sequence or a missing device (RuntimeError)
USER_ERRORS = (OSError, ValueError, RuntimeError)


def _one_line(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"warning: {message}", file=file or sys.stderr)


def tool_main(on_interrupt: str = ""):
    """Decorate a tool's ``main``: a user error exits with ``<tool>: <message>``; Ctrl-C with the
    interrupt's own message where it has one (a training loop's ``interrupted at step N; ...``), else
    ``<tool>: interrupted`` and ``on_interrupt`` (what was kept and how to go on)."""
    def decorate(main):
        tool = os.path.basename(main.__code__.co_filename)

        @functools.wraps(main)
        def guarded(*args, **kwargs):
            traceback = bool(os.environ.get("IENTRACK_TRACEBACK"))
            with warnings.catch_warnings():
                if not traceback:
                    warnings.showwarning = _one_line
                try:
                    return main(*args, **kwargs)
                except KeyboardInterrupt as interrupt:
                    if traceback:
                        raise
                    told = str(interrupt) or "interrupted" + (f"; {on_interrupt}" if on_interrupt else "")
                    print(f"\n{tool}: {told}", file=sys.stderr)
                    sys.exit(130)
                except USER_ERRORS as error:
                    if traceback:
                        raise
                    sys.exit(f"{tool}: {error}")
        return guarded
    return decorate


def add_progress_option(parser: argparse.ArgumentParser) -> None:
    """``--progress`` / ``--no-progress`` (``args.progress``); by default the bars show only where stderr is
    a terminal, so that a log file gets no control-sequence lines."""
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=sys.stderr.isatty(),
                        help="progress bars (default: only when stderr is a terminal)")


def add_sequences_option(parser: argparse.ArgumentParser) -> None:
    """``--sequences A B`` (pysot's ``--video``; ``args.sequences``): only these sequences of the dataset."""
    parser.add_argument("--sequences", "--video", nargs="+", default=None, metavar="NAME",
                        help="only these sequences of the dataset (an unknown name is an error naming the closest)")
