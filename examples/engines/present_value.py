#!/usr/bin/env python3
"""An example valuation command: the present value of a task's cash flows.

Contract (docs/engines.md): the task document on stdin, the result XML on stdout, exit 75 for a
temporary failure, any other non-zero exit for a permanent one.

    <Task id="..." type="CashFlows" rate="0.04">          continuously compounded flat rate
      <CashFlow years="0.5" amount="25"/>                  time in years, amount in currency
    </Task>
    <Task id="..." type="Sum"/>                            sums the values of the earlier results

Output: <Value xmlns="urn:valuation:1" type="...">PV</Value>
"""

import math
import sys
import xml.etree.ElementTree as ET

NS = "{urn:valuation:1}"


def present_value(task: ET.Element) -> float:
    rate = float(task.get("rate", "0"))
    return sum(
        float(flow.get("amount")) * math.exp(-rate * float(flow.get("years")))
        for flow in task.iter(f"{NS}CashFlow")
    )


def sum_of_results(document: ET.Element) -> float:
    return sum(float(value.text) for value in document.iter(f"{NS}Value"))


def main() -> int:
    document = ET.fromstring(sys.stdin.buffer.read())
    task = document.find(f"{NS}Task")
    kind = task.get("type")
    if kind == "CashFlows":
        value = present_value(task)
    elif kind == "Sum":
        value = sum_of_results(document.find(f"{NS}Results"))
    else:
        print(f"unknown task type {kind!r}", file=sys.stderr)
        return 2
    result = ET.Element(f"{NS}Value", type=kind)
    result.text = f"{value:.6f}"
    ET.register_namespace("", "urn:valuation:1")
    sys.stdout.write(ET.tostring(result, encoding="unicode"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
