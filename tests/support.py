"""Helpers the tests share: building requests and calling the API as API Gateway would."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTED_ENGINE = f"{sys.executable} {ROOT / 'tests' / 'engines' / 'scripted.py'}"


def request_xml(
    *groups: tuple[str, list[tuple[str, dict[str, str]]]], client_ref: str = "t"
) -> bytes:
    """A valuation request: groups of (name, [(task id, Task attributes)])."""
    body = "".join(
        f'<Group name="{name}">'
        + "".join(
            f'<Task id="{task_id}" type="Script"'
            + "".join(f' {key}="{value}"' for key, value in attrs.items())
            + "/>"
            for task_id, attrs in tasks
        )
        + "</Group>"
        for name, tasks in groups
    )
    return (
        f'<ValuationRequest xmlns="urn:valuation:1" xmlns:h="urn:valuation:hydration:1" '
        f'clientRef="{client_ref}">{body}</ValuationRequest>'
    ).encode()


class ApiResponse:
    def __init__(self, raw: dict):
        self.status = raw["statusCode"]
        self.headers = {k.lower(): v for k, v in (raw.get("headers") or {}).items()}
        for name, values in (raw.get("multiValueHeaders") or {}).items():
            self.headers[name.lower()] = ", ".join(values)
        self.text = raw.get("body") or ""

    def json(self) -> dict:
        return json.loads(self.text)


def call_api(method: str, path: str, body: bytes = b"", headers: dict | None = None) -> ApiResponse:
    """One request through the api handler, as API Gateway's proxy integration delivers it."""
    from valuation.local.http import invoke_api, proxy_event

    headers = {"Content-Type": "application/xml", **(headers or {})} if body else headers or {}
    return ApiResponse(invoke_api(proxy_event(method, path, headers, body), "us-east-1"))
