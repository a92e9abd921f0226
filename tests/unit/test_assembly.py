"""The response document keeps every result, in document order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from valuation.assembly import build_response, task_result_element
from valuation.xmlutil import NSMAP, to_bytes

IDS = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)
GROUPS = st.lists(
    st.tuples(IDS, st.lists(st.tuples(IDS, st.floats(-1e9, 1e9)), min_size=1, max_size=6,
                             unique_by=lambda task: task[0])),
    min_size=1, max_size=5, unique_by=lambda group: group[0],
)


def stored_result(task_id: str, value: float) -> str:
    element = etree.Element("{urn:valuation:1}Value", value=repr(value))
    return to_bytes(task_result_element(task_id, element, attempts=1, duration_ms=3,
                                        started_at="s", ended_at="e")).decode()


@settings(max_examples=80, deadline=None)
@given(GROUPS)
def test_assembly_keeps_every_result_in_document_order(groups):
    stored = [(name, [stored_result(task, value) for task, value in tasks])
              for name, tasks in groups]
    response = build_response("req", "desk", stored)

    assert response.get("status") == "succeeded" and response.get("requestId") == "req"
    found = [
        (group.get("name"), int(group.get("index")),
         [(r.get("id"), float(r.find("v:Value", NSMAP).get("value")))
          for r in group.findall("v:TaskResult", NSMAP)])
        for group in response.findall("v:Group", NSMAP)
    ]
    assert found == [(name, index, tasks) for index, (name, tasks) in enumerate(groups)]
