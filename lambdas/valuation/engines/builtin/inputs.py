"""Reading a task document: the task, its attributes and the results it references.

Every missing or invalid input raises `PermanentTaskError` naming the element and attribute:
another attempt would read the same document.
"""

from __future__ import annotations

import math
from datetime import date

from lxml import etree

from ...xmlutil import q
from ..errors import PermanentTaskError
from .dates import parse_date


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname


class TaskInput:
    """One task document as an engine sees it."""

    def __init__(self, document: etree._Element):
        if document.tag != q("TaskDocument"):
            raise PermanentTaskError(
                "the built-in engine expects a TaskDocument in urn:valuation:1"
            )
        task = document.find(q("Task"))
        if task is None:
            raise PermanentTaskError("the task document has no Task element")
        self.document = document
        self.task = task
        self.id = task.get("id") or document.get("taskId") or "?"
        self.type = task.get("type") or document.get("type") or ""

    def fail(self, message: str) -> PermanentTaskError:
        return PermanentTaskError(f"{self.type} task {self.id!r}: {message}")

    def terms(self, name: str) -> etree._Element:
        """The instrument's terms: the Task's child element `name`, or the Task itself."""
        element = self.task.find(q(name))
        return self.task if element is None else element

    # -- attributes -------------------------------------------------------------------------

    def text(
        self, element: etree._Element, name: str, choices: tuple[str, ...] | None = None
    ) -> str:
        value = element.get(name)
        if value is None or not value.strip():
            raise self.fail(f"{_where(element, name)} is missing")
        value = value.strip()
        if choices is not None and value not in choices:
            raise self.fail(
                f"{_where(element, name)}={value!r} must be one of {', '.join(choices)}"
            )
        return value

    def number(self, element: etree._Element, name: str, default: float | None = None, *,
               positive: bool = False) -> float:
        raw = element.get(name)
        if raw is None:
            if default is None:
                raise self.fail(f"{_where(element, name)} is missing")
            return default
        try:
            value = float(raw)
        except ValueError:
            raise self.fail(f"{_where(element, name)}={raw!r} is not a number") from None
        if not math.isfinite(value):
            raise self.fail(f"{_where(element, name)}={raw!r} is not a finite number")
        if positive and value <= 0:
            raise self.fail(f"{_where(element, name)}={raw!r} must be greater than 0")
        return value

    def date(self, element: etree._Element, name: str) -> date:
        raw = self.text(element, name)
        try:
            return parse_date(raw)
        except ValueError:
            raise self.fail(f"{_where(element, name)}={raw!r} is not a date (YYYY-MM-DD)") from None

    def valuation_date(self) -> date:
        day = self.optional_valuation_date()
        if day is None:
            raise self.fail(
                "needs a valuation date: Parameters/ValuationDate or the Task's valuationDate"
            )
        return day

    def optional_valuation_date(self) -> date | None:
        """The Task's `valuationDate` attribute, else the request's Parameters/ValuationDate."""
        if self.task.get("valuationDate") is not None:
            return self.date(self.task, "valuationDate")
        parameter = self.document.find(f"{q('Parameters')}/{q('ValuationDate')}")
        if parameter is None or not (parameter.text or "").strip():
            return None
        try:
            return parse_date(parameter.text)
        except ValueError:
            raise self.fail(
                f"Parameters/ValuationDate={parameter.text!r} is not a date (YYYY-MM-DD)"
            ) from None

    # -- earlier results --------------------------------------------------------------------

    def referenced_results(self) -> list[tuple[etree._Element, etree._Element]]:
        """(referencing element, TaskResult) for every result resolved into the Task."""
        return [
            (holder, result)
            for holder in self.task.iter(etree.Element)
            if holder.get("ref") is not None
            for result in holder.findall(q("TaskResult"))
        ]

    def document_results(self) -> list[etree._Element]:
        """The TaskResults of the document's Results: every one the task may use."""
        return self.document.findall(f"{q('Results')}/{q('TaskResult')}")

    def results_of_type(self, type_name: str) -> list[tuple[str, etree._Element]]:
        """(group/task, result element) of the `type_name` results the task references, else of
        every result the document carries; each result once."""
        found: dict[str, etree._Element] = {}
        referenced = [result for _, result in self.referenced_results()]
        for result in referenced or self.document_results():
            body = result_body(result)
            if body is not None and local_name(body) == type_name:
                found.setdefault(result_ref(result), body)
        return list(found.items())


def result_ref(result: etree._Element) -> str:
    """`group/task` of a TaskResult."""
    return f"{result.get('group', '?')}/{result.get('id', '?')}"


def result_body(result: etree._Element) -> etree._Element | None:
    """The engine's own result element inside a TaskResult."""
    return next(iter(result.iterchildren(etree.Element)), None)


def _where(element: etree._Element, attribute: str) -> str:
    return f"{local_name(element)}/@{attribute}"
