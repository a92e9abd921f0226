"""How a task attempt fails. The class names are the error names the state machine's Retry sees."""

from __future__ import annotations


class TaskError(Exception):
    """A task attempt failed; `exit_code` and `stderr_tail` are kept for support staff."""

    def __init__(self, message: str, *, exit_code: int | None = None, stderr_tail: str = ""):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.stderr_tail = stderr_tail


class TransientTaskError(TaskError):
    """Worth another attempt: the engine said so (exit 75) or ran out of time."""


class PermanentTaskError(TaskError):
    """Another attempt would fail the same way: bad input, an engine error, output not XML."""
