"""Valuation engines: the operator's external command or the built-in engine (DESIGN section 6)."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from ..settings import Settings
from .errors import PermanentTaskError, TaskError, TransientTaskError

__all__ = ["PermanentTaskError", "TaskError", "TaskRun", "TransientTaskError", "run_engine"]


@dataclass(frozen=True)
class TaskRun:
    """Who is running: passed to an external engine as its environment."""

    request_id: str
    group_index: int
    task_id: str
    attempt: int


def run_engine(document: bytes, run: TaskRun, settings: Settings) -> etree._Element:
    """Value one task document; return the engine's result element."""
    if settings.task_engine_command:
        from .external import run_command

        return run_command(settings.task_engine_command, document, run, settings)
    from ..xmlutil import parse_xml
    from .builtin import evaluate

    return evaluate(parse_xml(document).getroot())
