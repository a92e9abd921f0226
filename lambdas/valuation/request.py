"""The shape of a valuation request: its groups and tasks (DESIGN section 5)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from .xmlutil import NS, q

# Ids end up in Redis keys and in `group/task` references, so they stay within a safe alphabet.
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class InvalidRequest(ValueError):
    """Well-formed XML that is not a valuation request."""


@dataclass(frozen=True)
class GroupPlan:
    index: int
    name: str
    task_ids: tuple[str, ...]


@dataclass(frozen=True)
class RequestPlan:
    client_ref: str | None
    groups: tuple[GroupPlan, ...]

    @property
    def task_count(self) -> int:
        return sum(len(group.task_ids) for group in self.groups)


def group_elements(root: etree._Element) -> list[etree._Element]:
    return root.findall(q("Group"))


def task_elements(group: etree._Element) -> list[etree._Element]:
    return group.findall(q("Task"))


def read_plan(root: etree._Element) -> RequestPlan:
    """Check that `root` is a valuation request and list its groups and tasks in document order."""
    if root.tag != q("ValuationRequest"):
        raise InvalidRequest(
            f"root element must be ValuationRequest in namespace {NS}, not {_describe(root.tag)}"
        )
    groups = group_elements(root)
    if not groups:
        raise InvalidRequest("the request has no Group")
    plans: list[GroupPlan] = []
    seen_names: set[str] = set()
    for index, group in enumerate(groups):
        name = group.get("name") or f"group-{index}"
        where = f"Group {name!r} (line {group.sourceline})"
        if not ID_PATTERN.match(name):
            raise InvalidRequest(f"{where}: name must match {ID_PATTERN.pattern}")
        if name in seen_names:
            raise InvalidRequest(f"{where}: duplicate group name")
        seen_names.add(name)
        tasks = task_elements(group)
        if not tasks:
            raise InvalidRequest(f"{where} has no Task")
        task_ids: list[str] = []
        for task in tasks:
            task_id = task.get("id")
            if not task_id:
                raise InvalidRequest(f"{where}: Task at line {task.sourceline} has no id")
            if not ID_PATTERN.match(task_id):
                raise InvalidRequest(
                    f"{where}: task id {task_id!r} must match {ID_PATTERN.pattern}"
                )
            if task_id in task_ids:
                raise InvalidRequest(f"{where}: duplicate task id {task_id!r}")
            task_ids.append(task_id)
        plans.append(GroupPlan(index=index, name=name, task_ids=tuple(task_ids)))
    return RequestPlan(client_ref=root.get("clientRef"), groups=tuple(plans))


def _describe(tag: object) -> str:
    if not isinstance(tag, str):
        return "a non-element node"
    qname = etree.QName(tag)
    return f"{qname.localname} in namespace {qname.namespace or '(none)'}"
