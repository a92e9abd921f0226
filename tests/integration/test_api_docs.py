"""Every curl example of docs/api.md, run against the local stack's HTTP server."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import uuid

import pytest
import redis

from support import ROOT, SCRIPTED_ENGINE, call_api, request_xml
from valuation import api
from valuation.local import LocalStack
from valuation.local.http import make_server
from valuation.store.keys import RequestKeys

pytestmark = pytest.mark.integration

EXAMPLE = re.compile(r"<!-- expect: (\d{3}) -->\n```sh\n(.*?)\n```", re.DOTALL)
EXAMPLES = EXAMPLE.findall((ROOT / "docs" / "api.md").read_text())
KEYED = [(status, command) for status, command in EXAMPLES if "$API_WITH_KEY" in command]


def run_example(command: str, env: dict[str, str]) -> int:
    completed = subprocess.run(
        ["bash", "-c", f"{command} -s -o /dev/null -w '%{{http_code}}'"],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
    )
    return int(completed.stdout or 0)


def submit(body: bytes, mode: str = "async") -> str:
    return call_api("POST", f"/valuation?mode={mode}", body).headers["x-request-id"]


@pytest.fixture(scope="module")
def docs_env(redis_url, tmp_path_factory):
    stack = LocalStack({
        "REDIS_URL": redis_url, "TASK_ENGINE_COMMAND": SCRIPTED_ENGINE,
        "PAYLOAD_MAX_BYTES": "2000", "SYNC_WAIT_TIMEOUT_MS": "30000",
    })
    stack.start()
    httpd = make_server("127.0.0.1", 0)
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    stack.configure(UPLOAD_URL_BASE=url)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    large = tmp_path_factory.mktemp("docs") / "large.xml"
    large.write_bytes(request_xml(("g", [(f"t{i}", {}) for i in range(200)])))
    failing = (ROOT / "tests" / "data" / "failing-request.xml").read_bytes()
    succeeded = submit(request_xml(("g", [("t", {})])), mode="sync")
    failed = submit(failing, mode="sync")
    expired = submit(request_xml(("g", [("t", {})])), mode="sync")
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    keys = RequestKeys(expired)
    client.delete(*keys.request_level(), keys.group(0))  # what REQUEST_TTL_SECONDS does
    upload = api.service().create_upload()
    env = {
        "API": url,
        "API_WITH_KEY": url,
        "KEY": f"docs-{uuid.uuid4()}",
        "LARGE_FILE": str(large),
        "UPLOAD_URL": upload["url"],
        "UPLOAD_ID": upload["uploadId"],
        "REQUEST_ID": succeeded,
        "FAILED_ID": failed,
        "RUNNING_ID": submit(request_xml(("g", [("slow", {"sleep": "5"})]))),
        "EXPIRED_ID": expired,
    }
    yield stack, env
    httpd.shutdown()
    httpd.server_close()
    stack.stop()


def test_the_docs_have_an_example_for_every_route_and_error():
    text = "\n".join(command for _, command in EXAMPLES)
    for route in ('-X POST "$API/valuation"', "/valuation/uploads", "-X PUT", "/status",
                  "/results", "/retry", "/healthz"):
        assert route in text, f"no example of {route}"
    statuses = {status for status, _ in EXAMPLES}
    assert {"200", "201", "202", "400", "401", "403", "404", "409", "410", "413", "415",
            "422"} <= statuses


def test_every_example_answers_as_documented(docs_env):
    stack, env = docs_env
    outcomes = [
        (command, expected, run_example(command, env))
        for expected, command in EXAMPLES
        if (expected, command) not in KEYED
    ]
    assert [(c, e) for c, e, got in outcomes if str(got) != e] == [], outcomes
    stack.configure(API_KEY="docs-secret")
    keyed = [(command, expected, run_example(command, env)) for expected, command in KEYED]
    assert [(c, e) for c, e, got in keyed if str(got) != e] == [], keyed
