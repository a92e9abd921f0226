"""The real state machine on the local engine, against the real Redis server of REDIS_URL."""

from __future__ import annotations

import json
import logging
import time

import boto3
import pytest
import redis
from lxml import etree

from support import call_api, request_xml
from valuation import api
from valuation.settings import reload_settings
from valuation.store.keys import DEADLETTER_STREAM, LIFECYCLE_STREAM, RequestKeys

pytestmark = pytest.mark.integration

NS = {"v": "urn:valuation:1"}


def submit_and_wait(body: bytes, timeout_ms: int = 60_000) -> tuple[str, str | None]:
    response = call_api("POST", "/valuation", body)
    assert response.status == 202, response.text
    request_id = response.json()["requestId"]
    return request_id, api.service().wait(request_id, timeout_ms)


def results_document(request_id: str) -> etree._Element:
    response = call_api("GET", f"/valuation/{request_id}/results")
    assert response.status == 200, response.text
    return etree.fromstring(response.text.encode())


def events_of(client: redis.Redis, request_id: str) -> list[dict[str, str]]:
    return [fields for _, fields in client.xrange(RequestKeys(request_id).events)]


def test_groups_run_in_order_and_tasks_of_a_group_in_parallel(local_stack):
    local_stack(TASK_CONCURRENCY="5")
    tasks = [(f"t{i}", {"sleep": "0.3"}) for i in range(5)]
    request_id, outcome = submit_and_wait(
        request_xml(("first", tasks), ("second", [(f"u{i}", {"sleep": "0.3"}) for i in range(5)]))
    )
    assert outcome == "succeeded"

    document = results_document(request_id)
    groups = document.findall("v:Group", NS)
    assert [g.get("name") for g in groups] == ["first", "second"]
    ids = [r.get("id") for g in groups for r in g.findall("v:TaskResult", NS)]
    assert ids == [f"t{i}" for i in range(5)] + [f"u{i}" for i in range(5)]

    first, second = ([r for r in g.findall("v:TaskResult", NS)] for g in groups)
    # ISO timestamps of one format compare in time order as strings.
    assert max(r.get("endedAt") for r in first) <= min(r.get("startedAt") for r in second)
    for results in (first, second):
        assert max(r.get("startedAt") for r in results) < min(r.get("endedAt") for r in results)

    # A task of the second group sees every result of the first, and only those.
    echo = second[0].find("v:Echo", NS)
    assert echo.get("sees").split() == [f"first/t{i}" for i in range(5)]


def test_a_transient_failure_is_retried_until_it_succeeds(local_stack):
    local_stack(MAX_TASK_RETRIES="3")
    request_id, outcome = submit_and_wait(
        request_xml(("only", [("flaky", {"failUntilAttempt": "3"}), ("steady", {})]))
    )
    assert outcome == "succeeded"
    results = {r.get("id"): r for r in results_document(request_id).iter("{*}TaskResult")}
    assert results["flaky"].get("attempts") == "3"
    assert results["flaky"].find("v:Echo", NS).get("attempt") == "3"
    assert results["steady"].get("attempts") == "1"


def test_retries_are_bounded_by_max_task_retries(local_stack, redis_url):
    local_stack(MAX_TASK_RETRIES="1")
    request_id, outcome = submit_and_wait(
        request_xml(("only", [("flaky", {"failUntilAttempt": "5"})]))
    )
    assert outcome == "failed"
    failure = call_api("GET", f"/valuation/{request_id}/results").json()["failure"]
    assert failure["error"] == "TransientTaskError"
    assert failure["attempts"] == 2


def test_a_permanent_failure_fails_the_request_with_its_detail(local_stack, redis_url):
    local_stack()
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    lifecycle_before = client.xinfo_stream(LIFECYCLE_STREAM)["last-generated-id"] if client.exists(
        LIFECYCLE_STREAM) else "0-0"
    request_id, outcome = submit_and_wait(
        request_xml(
            ("prices", [("ok", {})]),
            ("risk", [("fine", {}), ("broken", {"exitCode": "3", "stderr": "curve missing"})]),
            ("never", [("unreached", {})]),
        )
    )
    assert outcome == "failed"

    response = call_api("GET", f"/valuation/{request_id}/results")
    assert response.status == 422
    assert response.headers["content-type"] == "application/problem+json"
    failure = response.json()["failure"]
    assert failure["group"] == 1 and failure["groupName"] == "risk"
    assert failure["task"] == "broken"
    assert failure["error"] == "PermanentTaskError"
    assert failure["exitCode"] == 3
    assert "curve missing" in failure["stderrTail"]
    assert failure["attempts"] == 1

    status = call_api("GET", f"/valuation/{request_id}/status").json()
    assert status["status"] == "failed"
    assert [g["status"] for g in status["groups"]] == ["succeeded", "failed", "pending"]
    assert status["groups"][1]["tasksFailed"] == 1

    published = [
        fields for _, fields in client.xrange(LIFECYCLE_STREAM, min=lifecycle_before)
        if fields["requestId"] == request_id
    ]
    assert published[-1]["event"] == "failed"
    dead = [f for _, f in client.xrevrange(DEADLETTER_STREAM, count=50)
            if f["requestId"] == request_id]
    assert [(d["task"], d["group"]) for d in dead] == [("broken", "1")]
    assert json.loads(dead[0]["failure"])["exitCode"] == 3


def test_output_that_is_not_xml_is_a_permanent_failure(local_stack):
    local_stack()
    request_id, outcome = submit_and_wait(request_xml(("g", [("t", {"output": "3.14"})])))
    assert outcome == "failed"
    failure = call_api("GET", f"/valuation/{request_id}/results").json()["failure"]
    assert failure["error"] == "PermanentTaskError"
    assert "not acceptable XML" in failure["cause"]


def test_lifecycle_events_and_state_in_order(local_stack, redis_url):
    local_stack()
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    request_id, outcome = submit_and_wait(
        request_xml(("a", [("a1", {}), ("a2", {})]), ("b", [("b1", {})]))
    )
    assert outcome == "succeeded"
    events = events_of(client, request_id)
    assert [(e["event"], e.get("group")) for e in events] == [
        ("received", None),
        ("started", None),
        ("group_started", "0"),
        ("group_completed", "0"),
        ("group_started", "1"),
        ("group_completed", "1"),
        ("succeeded", None),
    ]
    assert all(e["requestId"] == request_id and e["at"] for e in events)
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)

    keys = RequestKeys(request_id)
    state = client.hgetall(keys.state)
    assert state["status"] == "succeeded" and state["currentGroup"] == "1"
    assert state["executionArn"].endswith(f":{request_id}")
    for index, total in ((0, "2"), (1, "1")):
        group = client.hgetall(keys.group(index))
        assert (group["status"], group["tasksTotal"], group["tasksSucceeded"]) == (
            "succeeded", total, total)

    # Terminal: every key of the request expires, the tombstone outlives them.
    assert 0 < client.ttl(keys.xml) <= 86_400
    assert 0 < client.ttl(keys.task_result(0, "a1")) <= 86_400
    assert client.ttl(keys.tombstone) > 86_400


def test_the_payload_is_stored_before_the_execution_starts(local_stack, redis_url, monkeypatch):
    local_stack()
    from valuation import dispatch

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    seen: dict[str, object] = {}
    start = dispatch.start_execution

    def inspecting_start(settings, request_id, **kwargs):
        keys = RequestKeys(request_id)
        seen["xml"] = client.get(keys.xml)
        seen["metadata"] = client.hgetall(keys.metadata)
        seen["status"] = client.hget(keys.state, "status")
        seen["events"] = [e["event"] for e in events_of(client, request_id)]
        return start(settings, request_id, **kwargs)

    monkeypatch.setattr(dispatch, "start_execution", inspecting_start)
    body = request_xml(("g", [("t", {})]))
    request_id, outcome = submit_and_wait(body)
    assert outcome == "succeeded"
    assert seen["xml"] == body.decode()
    assert "receivedAt" in seen["metadata"]
    assert seen["status"] == "received"
    assert seen["events"] == ["received"]


def test_a_failure_to_start_is_503_and_the_request_is_failed(local_stack, monkeypatch):
    stack = local_stack()
    missing = stack.state_machine_arn.replace(":valuation", ":no-such-machine")
    monkeypatch.setenv("STATE_MACHINE_ARN", missing)
    reload_settings()
    api.forget_service()

    response = call_api("POST", "/valuation", request_xml(("g", [("t", {})])))
    assert response.status == 503
    assert response.headers["content-type"] == "application/problem+json"
    request_id = response.json()["requestId"]
    assert response.headers["x-request-id"] == request_id
    status = call_api("GET", f"/valuation/{request_id}/status").json()
    assert status["status"] == "failed"
    failure = call_api("GET", f"/valuation/{request_id}/results").json()["failure"]
    assert failure["error"] == "DispatchFailed"
    assert "no-such-machine" in failure["cause"]


def test_dry_run_logs_instead_of_starting(local_stack):
    from valuation import dispatch

    stack = local_stack(DISPATCH_DRY_RUN="true")
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    underlying = logging.getLogger(dispatch.logger.service)  # Powertools logs through it
    level = underlying.level
    underlying.addHandler(handler)
    underlying.setLevel(logging.INFO)
    try:
        response = call_api("POST", "/valuation", request_xml(("g", [("t", {})])))
    finally:
        underlying.removeHandler(handler)
        underlying.setLevel(level)

    assert response.status == 202
    request_id = response.json()["requestId"]
    dry_runs = [r for r in records if r.getMessage() == "dry run: execution not started"]
    assert [r.input for r in dry_runs] == [{"requestId": request_id, "resumeFromGroup": 0}]
    assert call_api("GET", f"/valuation/{request_id}/status").json()["status"] == "received"
    sfn = boto3.client("stepfunctions", region_name=stack.settings.aws_region)
    executions = sfn.list_executions(stateMachineArn=stack.state_machine_arn)
    assert executions["executions"] == []


def test_an_aborted_execution_fails_the_request_through_the_reconcile_function(local_stack):
    stack = local_stack()
    response = call_api("POST", "/valuation", request_xml(("g", [("slow", {"sleep": "2"})])))
    request_id = response.json()["requestId"]
    sfn = boto3.client("stepfunctions", region_name=stack.settings.aws_region)
    arn = f"{stack.state_machine_arn.replace(':stateMachine:', ':execution:')}:{request_id}"
    for _ in range(100):  # until the execution has marked the request started
        if api.service().store.state(request_id).get("executionArn") == arn:
            break
        time.sleep(0.02)
    sfn.stop_execution(executionArn=arn, error="Operator", cause="stopped by support")

    assert api.service().wait(request_id, 30_000) == "failed"
    result = call_api("GET", f"/valuation/{request_id}/results")
    assert result.status == 422
    # moto ends a stopped execution as FAILED when a Distributed Map was running, AWS as ABORTED.
    ended = sfn.describe_execution(executionArn=arn)["status"]
    expected = {"ABORTED": "ExecutionAborted", "FAILED": "ExecutionFailed"}[ended]
    assert result.json()["failure"]["error"] == expected
    events = [fields["event"] for _, fields in
              redis.Redis.from_url(stack.settings.redis_url, decode_responses=True)
              .xrange(RequestKeys(request_id).events)]
    assert events[-1] == "failed"
