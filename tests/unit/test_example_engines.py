"""The example engine commands (examples/engines/), run as the service runs an operator's engine."""

from __future__ import annotations

import math
import shlex
import sys
from dataclasses import replace

import pytest
from lxml import etree

from support import ROOT
from valuation.assembly import task_result_element
from valuation.engines import TaskRun
from valuation.engines.errors import PermanentTaskError
from valuation.engines.external import run_command
from valuation.request import GroupPlan
from valuation.settings import Settings
from valuation.taskdoc import build_task_document
from valuation.xmlutil import NS, q, to_bytes

ENGINES = ROOT / "examples" / "engines"
COMMANDS = {
    "python": f"{shlex.quote(sys.executable)} {shlex.quote(str(ENGINES / 'present_value.py'))}",
    "sh+awk": shlex.quote(str(ENGINES / "present_value.sh")),
}
RUN = TaskRun(request_id="r-1", group_index=1, task_id="t", attempt=1)


@pytest.fixture
def settings() -> Settings:
    return replace(Settings.from_env(), task_timeout_seconds=10, task_output_max_bytes=10_000)


def task_document(task_xml: str, earlier: dict[str, dict[str, etree._Element]]) -> bytes:
    task = etree.fromstring(f'<wrapper xmlns="{NS}">{task_xml}</wrapper>')[0]
    previous = next(reversed(earlier), None)
    document = build_task_document(
        request_id="r-1", group=GroupPlan(len(earlier), "book", (task.get("id"),)), task=task,
        parameters=None, metadata={}, earlier=earlier, previous_group=previous,
    )
    return to_bytes(document)


def value_result(group: str, index: int, task_id: str, value: float) -> etree._Element:
    """A stored TaskResult holding a `<Value>`, as an earlier group leaves it."""
    body = etree.Element(q("Value"), nsmap={None: NS}, type="CashFlows")
    body.text = f"{value:.6f}"
    result = task_result_element(
        task_id, body, attempts=1, duration_ms=1, started_at="", ended_at=""
    )
    result.set("group", group)
    result.set("groupIndex", str(index))
    return result


@pytest.mark.parametrize("engine", COMMANDS)
def test_present_value_of_cash_flows_at_a_flat_rate(engine, settings):
    document = task_document(
        '<Task id="bond" type="CashFlows" rate="0.04">'
        '<CashFlow years="0.5" amount="2.5"/><CashFlow years="1" amount="102.5"/>'
        '<CashFlow years="3.25" amount="-40"/></Task>',
        {},
    )
    result = run_command(COMMANDS[engine], document, RUN, settings)
    closed_form = 2.5 * math.exp(-0.02) + 102.5 * math.exp(-0.04) - 40 * math.exp(-0.13)
    assert result.tag == q("Value")
    assert float(result.text) == pytest.approx(closed_form, abs=1e-6)


@pytest.mark.parametrize("engine", COMMANDS)
def test_sum_of_the_group_before(engine, settings):
    earlier = {"legs": {
        "a": value_result("legs", 0, "a", 97.5),
        "b": value_result("legs", 0, "b", -12.25),
        "c": value_result("legs", 0, "c", 1000.125),
    }}
    result = run_command(
        COMMANDS[engine], task_document('<Task id="total" type="Sum"/>', earlier), RUN, settings
    )
    assert float(result.text) == pytest.approx(97.5 - 12.25 + 1000.125, abs=1e-6)


@pytest.mark.parametrize("engine", COMMANDS)
def test_an_unknown_type_is_a_permanent_failure(engine, settings):
    document = task_document('<Task id="x" type="Swaption"/>', {})
    with pytest.raises(PermanentTaskError) as caught:
        run_command(COMMANDS[engine], document, RUN, settings)
    assert caught.value.exit_code == 2
    assert "Swaption" in caught.value.stderr_tail
