"""The HTTP API contract of DESIGN section 4, on the local stack against real Redis."""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
import redis
from lxml import etree

from support import call_api, request_xml
from valuation import api
from valuation.store.keys import RequestKeys

pytestmark = pytest.mark.integration


def executions(stack) -> list[dict]:
    sfn = boto3.client("stepfunctions", region_name=stack.settings.aws_region)
    return sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]


def submit(body: bytes, **headers: str):
    return call_api("POST", "/valuation", body, headers)


# -- idempotency ----------------------------------------------------------------------------------


def test_the_same_key_and_body_give_the_original_request(local_stack):
    stack = local_stack()
    key = f"same-{uuid.uuid4()}"
    body = request_xml(("g", [("t", {})]))
    first = submit(body, **{"Idempotency-Key": key})
    again = submit(body, **{"Idempotency-Key": key})
    assert first.status == again.status == 202
    assert again.json()["requestId"] == first.json()["requestId"]
    assert len(executions(stack)) == 1


def test_the_same_key_with_another_body_is_409(local_stack):
    local_stack()
    key = f"different-{uuid.uuid4()}"
    submit(request_xml(("g", [("t", {})])), **{"Idempotency-Key": key})
    other = submit(request_xml(("g", [("u", {})])), **{"Idempotency-Key": key})
    assert other.status == 409
    assert other.headers["content-type"] == "application/problem+json"


def test_twenty_racing_submissions_start_exactly_one_execution(local_stack):
    stack = local_stack()
    body = request_xml(("g", [("t", {})]))
    key = f"race-{uuid.uuid4()}"
    start = threading.Barrier(20)

    def race(_: int):
        start.wait()
        return submit(body, **{"Idempotency-Key": key})

    with ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(race, range(20)))
    assert {r.status for r in responses} == {202}
    assert len({r.json()["requestId"] for r in responses}) == 1
    assert len(executions(stack)) == 1


# -- sync mode ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["event", "hybrid", "polling"])
def test_sync_mode_in_every_wait_mode(local_stack, mode):
    local_stack(WAIT_MODE=mode)
    response = call_api("POST", "/valuation?mode=sync", request_xml(("g", [("t", {})])))
    assert response.status == 200
    assert response.headers["content-type"] == "application/xml"
    assert response.headers["x-request-id"] in response.text


def test_sync_mode_answers_202_when_the_wait_runs_out_and_the_work_goes_on(local_stack):
    local_stack(SYNC_WAIT_TIMEOUT_MS="300")
    response = call_api(
        "POST", "/valuation?mode=sync", request_xml(("g", [("t", {"sleep": "1.5"})]))
    )
    # The wait gave up at its timeout, before the work ended: 202, and the work still going on.
    assert response.status == 202
    request_id = response.json()["requestId"]
    assert response.headers["location"] == f"/valuation/{request_id}/status"
    assert call_api("GET", f"/valuation/{request_id}/results").status == 202
    assert api.service().wait(request_id, 30_000) == "succeeded"


def test_an_unknown_mode_is_400(local_stack):
    local_stack()
    response = call_api("POST", "/valuation?mode=later", request_xml(("g", [("t", {})])))
    assert response.status == 400
    assert "mode" in response.json()["detail"]


# -- large bodies ---------------------------------------------------------------------------------


def large_request(size: int) -> bytes:
    """A request of about `size` bytes: rows of parameters and a few tasks."""
    row = "<Row>" + "x" * 1000 + "</Row>"
    padding = row * max(1, (size - 400) // len(row))
    return request_xml(("g", [("a", {}), ("b", {})])).replace(
        b"<Group", f"<Parameters>{padding}</Parameters><Group".encode(), 1
    )


def test_a_body_over_the_direct_limit_is_413_naming_the_upload_route(local_stack):
    local_stack(PAYLOAD_MAX_BYTES="1000")
    response = submit(large_request(2000))
    assert response.status == 413
    assert "POST /valuation/uploads" in response.json()["detail"]


def test_ten_megabytes_go_end_to_end_through_an_upload(local_stack, redis_url):
    from valuation.documents import DocumentStore
    from valuation.service import upload_key

    stack = local_stack(CLAIM_CHECK_BYTES="100000")
    upload = call_api("POST", "/valuation/uploads")
    assert upload.status == 201
    ticket = upload.json()
    assert ticket["method"] == "PUT" and ticket["url"]
    body = large_request(10 * 1024 * 1024)
    # What the client's PUT to the presigned URL does (the local server's own endpoint is
    # exercised over HTTP in test_http_and_cli).
    DocumentStore(stack.settings.document_bucket, stack.settings.aws_region).put(
        upload_key(ticket["uploadId"]), body
    )
    response = call_api("POST", "/valuation", headers={"X-Upload-Id": ticket["uploadId"]})
    assert response.status == 202, response.text
    request_id = response.json()["requestId"]
    assert api.service().wait(request_id, 120_000) == "succeeded"
    document = etree.fromstring(call_api("GET", f"/valuation/{request_id}/results").text.encode())
    assert [r.get("id") for r in document.iter("{*}TaskResult")] == ["a", "b"]

    # Claim check: Redis keeps a reference, the object store keeps the document.
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    stored = client.get(RequestKeys(request_id).xml)
    assert stored.startswith("@s3://") and len(stored) < 200
    assert api.service().store.xml(request_id).encode() == body


def test_an_unknown_upload_is_400_and_an_oversized_one_413(local_stack):
    from valuation.documents import DocumentStore
    from valuation.service import upload_key

    stack = local_stack(UPLOAD_MAX_BYTES="1000")
    unknown = call_api(
        "POST", "/valuation", headers={"X-Upload-Id": "0" * 8 + "-0000-0000-0000-" + "0" * 12}
    )
    assert unknown.status == 400
    ticket = call_api("POST", "/valuation/uploads").json()
    DocumentStore(stack.settings.document_bucket, stack.settings.aws_region).put(
        upload_key(ticket["uploadId"]), large_request(5000)
    )
    oversized = call_api("POST", "/valuation", headers={"X-Upload-Id": ticket["uploadId"]})
    assert oversized.status == 413


# -- results lifecycle ----------------------------------------------------------------------------


def test_results_are_410_after_expiry_and_404_for_what_never_existed(local_stack):
    local_stack(REQUEST_TTL_SECONDS="1")
    response = call_api("POST", "/valuation?mode=sync", request_xml(("g", [("t", {})])))
    assert response.status == 200
    request_id = response.headers["x-request-id"]
    deadline = time.monotonic() + 10
    while call_api("GET", f"/valuation/{request_id}/status").status == 200:
        assert time.monotonic() < deadline, "the request's keys never expired"
        time.sleep(0.2)
    for route in ("status", "results"):
        gone = call_api("GET", f"/valuation/{request_id}/{route}")
        assert gone.status == 410 and gone.headers["x-request-id"] == request_id
    assert call_api("GET", "/valuation/never-was/results").status == 404


def test_retry_runs_again_from_the_failed_group_and_keeps_earlier_results(local_stack, tmp_path):
    local_stack()
    broken = tmp_path / "broken"
    broken.touch()
    response = call_api(
        "POST",
        "/valuation?mode=sync",
        request_xml(
            ("first", [("a", {})]),
            ("second", [("b", {"failWhileExists": str(broken)}), ("c", {})]),
        ),
    )
    assert response.status == 422
    request_id = response.json()["requestId"]
    first_result = etree.fromstring(
        api.service().store.task_results(request_id, 0, ["a"])[0].encode()
    )

    broken.unlink()
    retried = call_api("POST", f"/valuation/{request_id}/retry")
    assert retried.status == 202
    assert api.service().wait(request_id, 30_000) == "succeeded"

    status = call_api("GET", f"/valuation/{request_id}/status").json()
    assert status["execution"]["arn"].endswith(f"{request_id}-r1")
    assert [g["status"] for g in status["groups"]] == ["succeeded", "succeeded"]
    document = etree.fromstring(call_api("GET", f"/valuation/{request_id}/results").text.encode())
    results = {r.get("id"): r for r in document.iter("{*}TaskResult")}
    assert results["a"].get("startedAt") == first_result.get("startedAt")  # reused, not re-run
    assert results["b"].find("{*}Echo").get("sees") == "first/a"

    again = call_api("POST", f"/valuation/{request_id}/retry")
    assert again.status == 409


# -- metadata -------------------------------------------------------------------------------------


def test_kept_headers_reach_the_engines(local_stack):
    local_stack(METADATA_HEADERS="X-Desk,X-Trader")
    response = call_api(
        "POST", "/valuation?mode=sync", request_xml(("g", [("t", {})])),
        {"X-Desk": "rates-42", "X-Other": "dropped"},
    )
    assert response.status == 200
    echo = etree.fromstring(response.text.encode()).find(".//{*}Echo")
    assert echo.get("metadata") == "x-desk=rates-42"
    request_id = response.headers["x-request-id"]
    kept = api.service().store.metadata(request_id)
    assert json.loads(kept["headers"]) == {"x-desk": "rates-42"}
