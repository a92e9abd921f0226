"""Aggregate (alias Portfolio): the weighted sum of the values of earlier results.

    <Task id="book" type="Aggregate">
      <Component h:result="pricing/*"/>                         every pricing result, weight 1
      <Component h:result="hedges/irs-5y" weight="-0.5"/>       one result, scaled
    </Task>

Each element of the Task holding a resolved `h:result` reference contributes every result it
references, times its `weight` (default 1); a result referenced twice counts twice. A task
without references sums every result its document carries (the group before, weight 1).

A component's value is the `value` attribute of the engine's result element inside its
TaskResult; a result without one (a DiscountCurve) is an error, never silently skipped.

    <Aggregate id="book" components="2" value="total">
      <Component ref="pricing/ust-5y" type="FixedRateBond" weight="1" value=".."
                 weightedValue=".."/>
    </Aggregate>
"""

from __future__ import annotations

import math

from lxml import etree

from .inputs import TaskInput, local_name, result_body, result_ref
from .results import child, result_element


def aggregate(inputs: TaskInput) -> etree._Element:
    weighted = [
        (inputs.number(holder, "weight", 1.0), result)
        for holder, result in inputs.referenced_results()
    ] or [(1.0, result) for result in inputs.document_results()]
    if not weighted:
        raise inputs.fail('has no results to aggregate: reference them with h:result="group/*"')
    components = [
        (weight, result_ref(result), *_valued(inputs, result)) for weight, result in weighted
    ]
    element = result_element(inputs.type, {
        "id": inputs.id,
        "components": len(components),
        "value": math.fsum(weight * value for weight, _, _, value in components),
    })
    for weight, ref, type_name, value in components:
        child(element, "Component", {
            "ref": ref,
            "type": type_name,
            "weight": weight,
            "value": value,
            "weightedValue": weight * value,
        })
    return element


def _valued(inputs: TaskInput, result: etree._Element) -> tuple[str, float]:
    """(type, value) of one TaskResult."""
    body = result_body(result)
    if body is None:
        raise inputs.fail(f"result {result_ref(result)} is empty")
    if body.get("value") is None:
        raise inputs.fail(
            f"result {result_ref(result)} ({local_name(body)}) has no value attribute to sum"
        )
    return local_name(body), inputs.number(body, "value")
