"""The local stack as users meet it: its HTTP server and the `valuation` command."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest

from support import ROOT, request_xml
from valuation.cli import main
from valuation.local.http import make_server

pytestmark = pytest.mark.integration


@pytest.fixture
def server(local_stack):
    local_stack(SYNC_WAIT_TIMEOUT_MS="30000")
    httpd = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def http(method: str, url: str, body: bytes | None = None, content_type: str = "application/xml"):
    request = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def test_async_submit_then_status_and_results_over_http(server):
    status, headers, body = http("POST", f"{server}/valuation", request_xml(("g", [("a", {})])))
    assert status == 202
    accepted = json.loads(body)
    request_id = accepted["requestId"]
    assert headers["Location"] == f"/valuation/{request_id}/status"
    assert headers["X-Request-Id"] == request_id
    assert accepted["links"]["results"] == f"/valuation/{request_id}/results"

    from valuation import api

    assert api.service().wait(request_id, 30_000) == "succeeded"
    status, headers, body = http("GET", f"{server}/valuation/{request_id}/status")
    assert status == 200 and headers["Cache-Control"] == "no-store"
    report = json.loads(body)
    assert report["status"] == "succeeded"
    assert report["groups"][0] == {
        "index": 0, "name": "g", "status": "succeeded",
        "tasksTotal": 1, "tasksSucceeded": 1, "tasksFailed": 0,
    }
    assert report["execution"]["arn"].endswith(request_id)
    status, headers, body = http("GET", f"{server}/valuation/{request_id}/results")
    assert status == 200 and headers["Content-Type"] == "application/xml"
    assert f'requestId="{request_id}"' in body


def test_sync_mode_answers_with_the_response_document(server):
    status, headers, body = http(
        "POST", f"{server}/valuation?mode=sync", request_xml(("g", [("a", {}), ("b", {})]))
    )
    assert status == 200
    assert headers["Content-Type"] == "application/xml"
    assert body.startswith("<ValuationResponse") and body.count("<TaskResult") == 2


def test_sync_mode_answers_422_with_the_failure(server):
    status, headers, body = http(
        "POST", f"{server}/valuation?mode=sync", request_xml(("g", [("a", {"exitCode": "9"})]))
    )
    assert status == 422
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["failure"]["exitCode"] == 9


def test_errors_are_problem_details(server):
    status, _, body = http("GET", f"{server}/valuation/does-not-exist/status")
    assert status == 404 and json.loads(body)["status"] == 404
    status, _, _ = http("POST", f"{server}/valuation", b"{}", content_type="application/json")
    assert status == 415
    status, _, body = http("POST", f"{server}/valuation", b"<ValuationRequest")
    assert status == 400 and json.loads(body)["line"] == 1


def test_health_reports_redis_and_the_workflow_engine(server):
    status, _, body = http("GET", f"{server}/healthz")
    assert status == 200
    assert json.loads(body)["checks"] == {"redis": True, "workflow": True}


def test_valuation_run_prints_the_response_and_exits_zero(redis_url, capsys, monkeypatch, tmp_path):
    from support import SCRIPTED_ENGINE

    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("TASK_ENGINE_COMMAND", SCRIPTED_ENGINE)
    request = tmp_path / "request.xml"
    request.write_bytes(request_xml(("first", [("a", {})]), ("second", [("b", {})])))
    assert main(["run", str(request)]) == 0
    out, err = capsys.readouterr()
    assert "<ValuationResponse" in out and 'id="b"' in out
    assert "group 2/2 'second'" in err and "succeeded" in err


def test_valuation_run_exits_non_zero_with_the_failure(redis_url, capsys, monkeypatch, tmp_path):
    from support import SCRIPTED_ENGINE

    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("TASK_ENGINE_COMMAND", SCRIPTED_ENGINE)
    request = tmp_path / "request.xml"
    request.write_bytes(request_xml(("g", [("a", {"exitCode": "2", "stderr": "no curve"})])))
    assert main(["run", str(request)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert '"task": "a"' in err and "no curve" in err


def test_valuation_run_refuses_a_bad_request(redis_url, capsys, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    assert main(["run", str(ROOT / "pyproject.toml")]) == 1
    assert "Malformed or refused XML" in capsys.readouterr().err


def test_the_example_book_is_valued_by_the_built_in_engine(redis_url, capsys, monkeypatch):
    """The README's main job: examples/portfolio.xml, hydrated from examples/data."""
    from lxml import etree

    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.delenv("TASK_ENGINE_COMMAND", raising=False)
    monkeypatch.setenv("HYDRATION_DATA_ROOTS", str(ROOT / "examples" / "data"))
    assert main(["run", str(ROOT / "examples" / "portfolio.xml")]) == 0
    response = etree.fromstring(capsys.readouterr().out.encode())
    ns = {"v": "urn:valuation:1"}
    assert [g.get("name") for g in response.findall("v:Group", ns)] == [
        "curves", "pricing", "portfolio"]
    priced = {r.get("id"): float(r[0].get("value"))
              for r in response.findall("v:Group[@name='pricing']/v:TaskResult", ns)}
    (book,) = response.findall(".//v:Aggregate", ns)
    assert len(priced) == 5 and int(book.get("components")) == 5
    assert float(book.get("value")) == pytest.approx(sum(priced.values()), rel=1e-9)
