"""The steps of the workflow called one by one, as the state machine calls them: the state hash
and the group hashes move at every step."""

from __future__ import annotations

from dataclasses import replace

import fakeredis
import pytest

from support import SCRIPTED_ENGINE, request_xml
from valuation.request import read_plan
from valuation.settings import Settings
from valuation.store import RequestStore
from valuation.store.keys import RequestKeys
from valuation.workflow.steps import Workflow, WorkflowError
from valuation.xmlutil import parse_xml

REQUEST_ID = "req-1"


@pytest.fixture
def workflow() -> Workflow:
    settings = replace(Settings.from_env(), task_engine_command=SCRIPTED_ENGINE)
    store = RequestStore(fakeredis.FakeRedis(decode_responses=True), settings)
    body = request_xml(("first", [("a", {}), ("b", {})]), ("second", [("c", {})]))
    store.create(REQUEST_ID, body.decode(), read_plan(parse_xml(body).getroot()), {})
    return Workflow(store, settings)


def snapshot(workflow: Workflow) -> tuple[str, str, list[tuple[str, str, str]]]:
    store, keys = workflow.store, RequestKeys(REQUEST_ID)
    state = store.redis.hgetall(keys.state)
    groups = [store.redis.hgetall(keys.group(i)) for i in range(2)]
    return state["status"], state["currentGroup"], [
        (g["status"], g["tasksSucceeded"], g["tasksFailed"]) for g in groups
    ]


def test_the_state_moves_with_every_step(workflow):
    assert snapshot(workflow) == ("received", "", [("pending", "0", "0"), ("pending", "0", "0")])
    assert workflow.hydrate(REQUEST_ID, "arn:execution", 0) == {"groups": [0, 1]}
    assert snapshot(workflow)[:2] == ("started", "")
    assert workflow.prepare_group(REQUEST_ID, 0) == {"taskIds": ["a", "b"]}
    assert snapshot(workflow) == ("running", "0", [("running", "0", "0"), ("pending", "0", "0")])
    workflow.run_task(REQUEST_ID, 0, "a", 0)
    assert snapshot(workflow)[2][0] == ("running", "1", "0")
    with pytest.raises(WorkflowError, match="1 of 2 tasks succeeded"):
        workflow.complete_group(REQUEST_ID, 0)
    workflow.run_task(REQUEST_ID, 0, "b", 0)
    workflow.run_task(REQUEST_ID, 0, "b", 0)  # a repeated delivery counts once
    assert snapshot(workflow)[2][0] == ("running", "2", "0")
    workflow.complete_group(REQUEST_ID, 0)
    workflow.prepare_group(REQUEST_ID, 1)
    assert snapshot(workflow) == ("running", "1", [("succeeded", "2", "0"), ("running", "0", "0")])
    workflow.run_task(REQUEST_ID, 1, "c", 0)
    workflow.complete_group(REQUEST_ID, 1)
    workflow.assemble(REQUEST_ID)
    assert snapshot(workflow) == (
        "succeeded", "1", [("succeeded", "2", "0"), ("succeeded", "1", "0")]
    )


def test_a_group_sees_the_results_of_the_group_before(workflow):
    workflow.hydrate(REQUEST_ID, "arn:execution", 0)
    workflow.prepare_group(REQUEST_ID, 0)
    for task in ("a", "b"):
        workflow.run_task(REQUEST_ID, 0, task, 0)
    workflow.complete_group(REQUEST_ID, 0)
    workflow.prepare_group(REQUEST_ID, 1)
    document = parse_xml(workflow.store.task_document(REQUEST_ID, 1, "c").encode()).getroot()
    assert document.get("requestId") == REQUEST_ID and document.get("groupName") == "second"
    seen = [(r.get("group"), r.get("id")) for r in document.iter("{*}TaskResult")]
    assert seen == [("first", "a"), ("first", "b")]


def test_record_failure_keeps_the_task_detail_and_ends_the_request(workflow):
    workflow.hydrate(REQUEST_ID, "arn:execution", 0)
    workflow.prepare_group(REQUEST_ID, 0)
    workflow.store.record_task_failure(
        REQUEST_ID, 0, "a", {"error": "PermanentTaskError", "task": "a", "group": 0}
    )
    outcome = workflow.record_failure(
        REQUEST_ID, {"Error": "PermanentTaskError", "Cause": '{"errorMessage": "boom"}'}
    )
    assert outcome == {"status": "failed", "error": "PermanentTaskError"}
    failure = workflow.store.failure(REQUEST_ID)
    assert failure["task"] == "a" and failure["cause"] == "boom"
    assert snapshot(workflow)[0] == "failed"
    assert snapshot(workflow)[2][0] == ("failed", "0", "1")


def test_record_failure_without_a_task_record_uses_what_the_catch_saw(workflow):
    workflow.record_failure(REQUEST_ID, {"Error": "States.Timeout", "Cause": "too slow"})
    failure = workflow.store.failure(REQUEST_ID)
    assert (failure["error"], failure["cause"]) == ("States.Timeout", "too slow")


def test_reconcile_ends_a_request_whose_execution_ended_unseen(workflow):
    arn = f"arn:aws:states:us-east-1:1:execution:valuation:{REQUEST_ID}"
    workflow.hydrate(REQUEST_ID, arn, 0)
    workflow.prepare_group(REQUEST_ID, 0)
    unknown_request = arn.replace(REQUEST_ID, "req-0")
    assert workflow.reconcile(unknown_request, "ABORTED", None, None)["reconciled"] is False

    outcome = workflow.reconcile(arn, "TIMED_OUT", "States.Timeout", None)
    assert outcome == {"requestId": REQUEST_ID, "reconciled": True}
    failure = workflow.store.failure(REQUEST_ID)
    assert (failure["error"], failure["cause"]) == ("ExecutionTimedOut", "States.Timeout")
    assert snapshot(workflow)[0] == "failed"
    assert workflow.reconcile(arn, "FAILED", None, None)["reconciled"] is False  # terminal


def test_reconcile_judges_a_retried_request_by_its_current_run(workflow):
    first = f"arn:aws:states:us-east-1:1:execution:valuation:{REQUEST_ID}"
    workflow.record_failure(REQUEST_ID, {"Error": "PermanentTaskError", "Cause": "bad"})
    workflow.store.reopen(REQUEST_ID, 0)  # a retry: the run named REQUEST_ID-r1 is current
    assert workflow.reconcile(first, "ABORTED", None, None)["reconciled"] is False
    assert snapshot(workflow)[0] == "received"

    # The retry's execution failed before Hydrate marked the request started.
    assert workflow.reconcile(f"{first}-r1", "FAILED", "Lambda.Unknown", None)["reconciled"]
    assert workflow.store.failure(REQUEST_ID)["error"] == "ExecutionFailed"
    assert snapshot(workflow)[0] == "failed"
