"""A local HTTP server that turns requests into API Gateway proxy events for the api handler,
the way `sam local start-api` does. It also plays the parts API Gateway and S3 play in AWS: the
API key check (API_KEY), the upload endpoint that stands in for presigned S3 URLs, and the
OpenAPI document."""

from __future__ import annotations

import base64
import hmac
import json
import re
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .. import api
from ..documents import DocumentStore
from ..handlers import api as api_handler
from ..service import upload_key
from ..settings import get_settings
from ..workflow.functions import API_FUNCTION
from .lambdas import LocalContext, function_arn

# API Gateway refuses larger payloads before any function sees them.
API_GATEWAY_MAX_BODY = 10 * 1024 * 1024
UPLOAD_PATH = re.compile(r"^/valuation/uploads/([0-9a-f-]{36})$")
OPEN_PATHS = ("/healthz", "/openapi.json")


def proxy_event(
    method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str = "127.0.0.1"
) -> dict[str, Any]:
    """The REST API (v1) proxy event API Gateway would send for this request."""
    url = urlsplit(target)
    query = parse_qs(url.query, keep_blank_values=True)
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode("ascii"), True
    return {
        "resource": "/{proxy+}",
        "path": url.path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": {"proxy": url.path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "stage": "local",
            "httpMethod": method,
            "path": url.path,
            "resourcePath": "/{proxy+}",
            "identity": {"sourceIp": source_ip},
        },
        "body": text if body else None,
        "isBase64Encoded": encoded,
    }


def invoke_api(event: dict[str, Any], region: str) -> dict[str, Any]:
    context = LocalContext(
        "valuation-Api", function_arn(region, API_FUNCTION), API_FUNCTION.memory_mb,
        API_FUNCTION.timeout_seconds,
    )
    return api_handler.handler(event, context)


class _ProxyHandler(BaseHTTPRequestHandler):
    server_version = "valuation-local"

    @property
    def settings(self):
        return get_settings()  # read per request: the stack may change its settings while serving

    def _handle(self) -> None:
        path = urlsplit(self.path).path
        if path not in OPEN_PATHS and not self._authorised():
            return
        upload = UPLOAD_PATH.match(path)
        if self.command == "PUT" and upload:
            self._store_upload(upload.group(1))
        elif self.command == "GET" and path == "/openapi.json":
            self._reply(200, {"Content-Type": "application/json"},
                        json.dumps(api.openapi_document(), indent=2).encode())
        else:
            self._proxy()

    def _authorised(self) -> bool:
        expected = self.settings.api_key
        if expected is None:
            return True
        given = self.headers.get("x-api-key")
        if given is None:
            self._problem(401, "Unauthorized", "send the API key in the x-api-key header")
            return False
        if not hmac.compare_digest(given.encode(), expected.encode()):
            self._problem(403, "Forbidden", "the API key is not valid")
            return False
        return True

    def _body(self, limit: int) -> bytes | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > limit:
            self._problem(413, "Payload Too Large", f"at most {limit} bytes are accepted here")
            return None
        return self.rfile.read(length) if length else b""

    def _store_upload(self, upload_id: str) -> None:
        body = self._body(self.settings.upload_max_bytes)
        if body is None:
            return
        store = DocumentStore(self.settings.document_bucket, self.settings.aws_region)
        store.put(upload_key(upload_id), body)
        self._reply(200, {"Content-Type": "application/json"},
                    json.dumps({"uploadId": upload_id, "bytes": len(body)}).encode())

    def _proxy(self) -> None:
        body = self._body(API_GATEWAY_MAX_BODY)
        if body is None:
            return
        event = proxy_event(
            self.command, self.path, dict(self.headers.items()), body, self.client_address[0]
        )
        response = invoke_api(event, self.settings.aws_region)
        payload = response.get("body") or ""
        data = (base64.b64decode(payload) if response.get("isBase64Encoded")
                else payload.encode("utf-8"))
        headers = {**(response.get("headers") or {})}
        for name, values in (response.get("multiValueHeaders") or {}).items():
            headers[name] = ", ".join(values)
        self._reply(int(response["statusCode"]), headers, data)

    def _problem(self, status: int, title: str, detail: str) -> None:
        body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
        self._reply(status, {"Content-Type": "application/problem+json"}, json.dumps(body).encode())

    def _reply(self, status: int, headers: dict[str, str], data: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # the api handler logs every request itself


def make_server(host: str, port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), _ProxyHandler)
    server.daemon_threads = True
    return server
