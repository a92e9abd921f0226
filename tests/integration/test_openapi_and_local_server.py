"""The OpenAPI document, checked against the code and against the running local server."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from support import ROOT, SCRIPTED_ENGINE, request_xml
from valuation import api
from valuation.local import LocalStack
from valuation.local.http import make_server

pytestmark = pytest.mark.integration

API_KEY = "local-test-key"


def serve(env: dict[str, str]) -> Iterator[str]:
    stack = LocalStack(env)
    stack.start()
    httpd = make_server("127.0.0.1", 0)
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    stack.configure(UPLOAD_URL_BASE=url)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield url
    finally:
        httpd.shutdown()
        httpd.server_close()
        stack.stop()


@pytest.fixture(scope="module")
def server(redis_url: str) -> Iterator[str]:
    yield from serve({"REDIS_URL": redis_url, "TASK_ENGINE_COMMAND": SCRIPTED_ENGINE,
                      "SYNC_WAIT_TIMEOUT_MS": "2000"})


@pytest.fixture
def keyed_server(redis_url: str) -> Iterator[str]:
    yield from serve({"REDIS_URL": redis_url, "API_KEY": API_KEY})


def fetch(method: str, url: str, body: bytes | None = None, **headers: str):
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_the_committed_document_is_the_generated_one():
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert committed == api.openapi_document(), (
        "docs/openapi.json is stale: regenerate it with `valuation openapi > docs/openapi.json`"
    )


def test_the_local_server_serves_the_document(server):
    status, body = fetch("GET", f"{server}/openapi.json")
    assert status == 200
    assert json.loads(body) == api.openapi_document()


# Everything the spec states. Left out: positive_data_acceptance, which expects any string body
# to be accepted; the spec types the body as a string and documents the 400 that non-requests get.
SPEC_CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


def operations() -> list:
    schema = schemathesis.openapi.from_dict(api.openapi_document())
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("operation", operations(), ids=lambda op: op.label)
def test_no_5xx_and_nothing_that_contradicts_the_spec(server, operation):
    @given(case=operation.as_strategy())
    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck),
              database=None)
    def conforms(case):
        case.call_and_validate(base_url=server, checks=SPEC_CHECKS)

    conforms()


def test_a_large_request_uploads_over_http(server):
    status, body = fetch("POST", f"{server}/valuation/uploads")
    assert status == 201
    ticket = json.loads(body)
    assert ticket["url"].startswith("http://")
    document = request_xml(("g", [("a", {})]))
    status, _ = fetch("PUT", ticket["url"], document, **{"Content-Type": "application/xml"})
    assert status == 200
    status, body = fetch("POST", f"{server}/valuation?mode=sync",
                         **{"X-Upload-Id": ticket["uploadId"]})
    assert status == 200 and b"<TaskResult" in body


def test_an_api_key_is_required_when_configured(keyed_server):
    status, body = fetch("GET", f"{keyed_server}/valuation/x/status")
    assert status == 401 and json.loads(body)["title"] == "Unauthorized"
    status, _ = fetch("GET", f"{keyed_server}/valuation/x/status", **{"x-api-key": "wrong"})
    assert status == 403
    status, _ = fetch("GET", f"{keyed_server}/valuation/x/status", **{"x-api-key": API_KEY})
    assert status == 404
    status, _ = fetch("GET", f"{keyed_server}/healthz")
    assert status == 200
