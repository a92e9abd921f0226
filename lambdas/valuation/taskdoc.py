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
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

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


def build_task_document(
    *,
    request_id: str,
    group: GroupPlan,
    task: etree._Element,
    parameters: etree._Element | None,
    metadata: Mapping[str, str],
    earlier: EarlierResults,
    previous_group: str | None,
) -> etree._Element:
    document = etree.Element(
        q("TaskDocument"),
        nsmap={None: NS},
        requestId=request_id,
        groupIndex=str(group.index),
        groupName=group.name,
        taskId=task.get("id"),
        type=task.get("type", ""),
    )
    if parameters is not None:
        document.append(copy.deepcopy(parameters))
    if metadata:
        holder = etree.SubElement(document, q("Metadata"))
        for name, value in metadata.items():
            etree.SubElement(holder, q("Header"), name=name).text = value
    task_copy = copy.deepcopy(task)
    document.append(task_copy)
    referenced = _resolve_references(task_copy, earlier, group)
    if not referenced and previous_group is not None:
        referenced = list(earlier.get(previous_group, {}).values())
    results = etree.SubElement(document, q("Results"))
    for result in referenced:
        results.append(copy.deepcopy(result))
    etree.cleanup_namespaces(document, top_nsmap={None: NS})
    return document


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
        raise ResultReferenceError(f'{where}: h:result="{reference}" must be "group/task" or "group/*"')
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
