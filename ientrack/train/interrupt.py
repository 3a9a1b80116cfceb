"""Ctrl-C during training: the training loops save their resumable state, the training commands say so.

A loop runs its steps inside :func:`save_on_interrupt`; a ``KeyboardInterrupt`` there (Ctrl-C, SIGINT)
writes the state it would resume from and becomes a :class:`TrainingInterrupted` naming the step, which
:func:`ientrack.cli.tool_main` prints as one line before exit status 130 (the shell's code for SIGINT).
"""
from contextlib import contextmanager
from typing import Callable, Optional


class TrainingInterrupted(KeyboardInterrupt):
    """A Ctrl-C during training, after the resumable state of ``step`` steps was written."""

    def __init__(self, step: int):
        super().__init__(step)
        self.step = step

    def __str__(self) -> str:
        return f"interrupted at step {self.step}; rerun the same command to resume"


@contextmanager
def save_on_interrupt(save: Optional[Callable[[], int]]):
    """Run the block; a ``KeyboardInterrupt`` in it calls ``save()`` (writes the resumable state, returns
    its step) and is raised again as a :class:`TrainingInterrupted`. ``save=None``: nothing to resume from,
    the interrupt passes as it is."""
    try:
        yield
    except KeyboardInterrupt:
        if save is None:
            raise
        raise TrainingInterrupted(save()) from None
