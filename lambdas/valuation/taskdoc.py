"""Task documents: everything one engine run needs, in one XML document (DESIGN section 5).

    <TaskDocument xmlns="urn:valuation:1" requestId=".." groupIndex="1" groupName="pricing"
                  taskId="bond-1" type="FixedRateBond">
      <Parameters>...</Parameters>            the request's Parameters, when it has them
      <Metadata><Header name="x-desk">42</Header></Metadata>
      <Task id="bond-1" type="FixedRateBond">  the task element, its h:result references resolved
        <DiscountCurve ref="curves/usd-ois"><TaskResult group="curves" id="usd-ois" ...>
      </Task>
      <Results>                                the earlier results the task references
        <TaskResult group="curves" groupIndex="0" id="usd-ois" status="succeeded">...</TaskResult>
      </Results>
    </TaskDocument>

A task without `h:result` references sees every result of the group before it.

The parts every task of a group shares are kept once per group (`GroupDocuments`); a task's
document is composed from them and its own parts when it runs.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree

from .request import GroupPlan
from .xmlutil import NS, hq, q

RESULT_DIRECTIVE = hq("result")


class ResultReferenceError(ValueError):
    """An `h:result` reference that names no earlier result."""


# Results of earlier groups: group name -> task id -> TaskResult element.
EarlierResults = Mapping[str, Mapping[str, etree._Element]]


def referenced_groups(task: etree._Element) -> set[str]:
    """Names of the groups whose results a task references (to load only those)."""
    return {
        ref.split("/", 1)[0]
        for ref in (el.get(RESULT_DIRECTIVE) for el in task.iter(etree.Element))
        if ref
    }


@dataclass(frozen=True)
class TaskParts:
    """One task's own parts of its document; None `results`: it sees the group before."""

    open_tag: str
    task: str
    results: str | None


class GroupDocuments:
    """The task documents of one group, in parts.

    What every task of the group shares (Parameters, Metadata and the results of the group
    before) is serialized once and stored once: a group of n tasks after a group of m would
    otherwise copy, store and send n x m results. `compose` puts a task's document together.
    """

    def __init__(
        self,
        *,
        request_id: str,
        group: GroupPlan,
        tasks: Sequence[etree._Element],
        parameters: etree._Element | None,
        metadata: Mapping[str, str],
        earlier: EarlierResults,
        previous_group: str | None,
    ):
        self.request_id = request_id
        self.group = group
        self.earlier = earlier
        shared = [] if parameters is None else [_serialized(parameters)]
        if metadata:
            holder = etree.Element(q("Metadata"), nsmap={None: NS})
            for name, value in metadata.items():
                etree.SubElement(holder, q("Header"), name=name).text = value
            shared.append(_serialized(holder))
        self.shared = "".join(shared)
        self.previous_results = _results(earlier.get(previous_group, {}).values())
        self.parts = {task.get("id"): self._task_parts(task) for task in tasks}

    def document(self, task_id: str) -> str:
        return compose(self.parts[task_id], self.shared, self.previous_results)

    def _task_parts(self, task: etree._Element) -> TaskParts:
        header = etree.Element(
            q("TaskDocument"),
            nsmap={None: NS},
            requestId=self.request_id,
            groupIndex=str(self.group.index),
            groupName=self.group.name,
            taskId=task.get("id"),
            type=task.get("type", ""),
        )
        # An element without content serializes as <TaskDocument .../>: open it instead.
        open_tag = _serialized(header)[:-2] + ">"
        if not referenced_groups(task):
            return TaskParts(open_tag, _serialized(task), None)
        task_copy = copy.deepcopy(task)
        referenced = _resolve_references(task_copy, self.earlier, self.group)
        return TaskParts(open_tag, _serialized(task_copy), _results(referenced))


def compose(parts: TaskParts, shared: str, previous_results: str) -> str:
    """A task's whole document from its own parts and its group's shared ones."""
    results = previous_results if parts.results is None else parts.results
    return f"{parts.open_tag}{shared}{parts.task}{results}</TaskDocument>"


def build_task_document(*, task: etree._Element, **group: Any) -> etree._Element:
    """One task's document as an element (`group`: the other arguments of GroupDocuments)."""
    document = GroupDocuments(tasks=[task], **group).document(task.get("id"))
    return etree.fromstring(document.encode())


def _results(results: Iterable[etree._Element]) -> str:
    holder = etree.Element(q("Results"), nsmap={None: NS})
    for result in results:
        holder.append(copy.deepcopy(result))
    return _serialized(holder)


def _serialized(element: etree._Element) -> str:
    return etree.tostring(element, encoding="unicode", with_tail=False)


def _resolve_references(
    task: etree._Element, earlier: EarlierResults, group: GroupPlan
) -> list[etree._Element]:
    """Insert the results each `h:result` names into its element; return them all, once each."""
    seen: dict[int, etree._Element] = {}
    for element in list(task.iter(etree.Element)):
        reference = element.get(RESULT_DIRECTIVE)
        if reference is None:
            continue
        matches = select_results(reference, earlier, where=_where(element, group))
        del element.attrib[RESULT_DIRECTIVE]
        element.set("ref", reference)
        for result in matches:
            element.append(copy.deepcopy(result))
            seen.setdefault(id(result), result)
    return list(seen.values())


def select_results(
    reference: str, earlier: EarlierResults, *, where: str
) -> Sequence[etree._Element]:
    group_name, _, task_id = reference.partition("/")
    if not group_name or not task_id:
        raise ResultReferenceError(
            f'{where}: h:result="{reference}" must be "group/task" or "group/*"'
        )
    if group_name not in earlier:
        raise ResultReferenceError(
            f'{where}: h:result="{reference}" names no earlier group {group_name!r}'
        )
    results = earlier[group_name]
    if task_id == "*":
        return list(results.values())
    if task_id not in results:
        raise ResultReferenceError(
            f'{where}: h:result="{reference}" names no task {task_id!r} in group {group_name!r}'
        )
    return [results[task_id]]


def _where(element: etree._Element, group: GroupPlan) -> str:
    return f"group {group.name!r}, {etree.QName(element).localname} at line {element.sourceline}"
