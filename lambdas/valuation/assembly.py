"""The response document (DESIGN section 5): every group and task result in document order."""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from .xmlutil import NS, parse_xml, q


def task_result_element(
    task_id: str,
    result: etree._Element,
    *,
    attempts: int,
    duration_ms: int,
    started_at: str,
    ended_at: str,
) -> etree._Element:
    element = etree.Element(
        q("TaskResult"),
        nsmap={None: NS},
        id=task_id,
        status="succeeded",
        attempts=str(attempts),
        durationMs=str(duration_ms),
        startedAt=started_at,
        endedAt=ended_at,
    )
    element.append(result)
    return element


def build_response(
    request_id: str,
    client_ref: str | None,
    groups: Sequence[tuple[str, Sequence[str]]],
) -> etree._Element:
    """`groups`: (name, the stored TaskResult documents of its tasks), in document order."""
    response = etree.Element(q("ValuationResponse"), nsmap={None: NS}, requestId=request_id)
    if client_ref:
        response.set("clientRef", client_ref)
    response.set("status", "succeeded")
    for index, (name, results) in enumerate(groups):
        group = etree.SubElement(response, q("Group"), name=name, index=str(index))
        for result in results:
            group.append(parse_xml(result.encode()).getroot())
    etree.cleanup_namespaces(response, top_nsmap={None: NS})
    return response
