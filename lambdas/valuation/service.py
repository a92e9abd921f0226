"""What the HTTP API does, free of HTTP: submit, report status, hand out results, wait."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import dispatch
from .documents import DocumentMissing
from .request import InvalidRequest, read_plan
from .settings import Settings
from .store import RequestStore
from .store.requests import TERMINAL, RequestNotFailed, utcnow
from .xmlutil import XmlRejected, parse_xml


@dataclass
class Problem(Exception):
    """An outcome the client must be told about, as an RFC 9457 problem."""

    status: int
    title: str
    detail: str
    request_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        body = {"type": "about:blank", "title": self.title, "status": self.status,
                "detail": self.detail, **self.extra}
        if self.request_id:
            body["requestId"] = self.request_id
        return body


UPLOAD_URL_EXPIRES_SECONDS = 900
POLL_INTERVAL_MS = 250
# One blocking read stays well inside the Redis client's socket timeout (30 s).
EVENT_BLOCK_MS = 10_000


def upload_key(upload_id: str) -> str:
    return f"uploads/{upload_id}"


@dataclass(frozen=True)
class Submission:
    request_id: str
    status: str
    replayed: bool = False


class ValuationService:
    def __init__(self, store: RequestStore, settings: Settings):
        self.store = store
        self.settings = settings

    # -- submit ---------------------------------------------------------------------------------

    def submit(
        self,
        body: bytes,
        headers: Mapping[str, str],
        idempotency_key: str | None = None,
    ) -> Submission:
        """Validate, store atomically, then start the workflow. Nothing is stored for bad input."""
        if len(body) > self.settings.payload_max_bytes:
            raise Problem(
                413, "Payload Too Large",
                f"the body of {len(body)} bytes exceeds the direct limit of "
                f"{self.settings.payload_max_bytes}; upload larger documents through "
                "POST /valuation/uploads, then POST /valuation with X-Upload-Id",
            )
        return self._accept(body, headers, idempotency_key)

    def submit_upload(
        self, upload_id: str, headers: Mapping[str, str], idempotency_key: str | None = None
    ) -> Submission:
        """Submit a document uploaded through `create_upload`."""
        documents = self._documents()
        try:
            uuid.UUID(upload_id)
            key = upload_key(upload_id)
            size = documents.size(key)
        except (ValueError, DocumentMissing):
            raise Problem(400, "Unknown upload", f"no upload {upload_id!r}") from None
        if size > self.settings.upload_max_bytes:
            raise Problem(
                413, "Payload Too Large",
                f"the upload of {size} bytes exceeds the limit of {self.settings.upload_max_bytes}",
            )
        return self._accept(documents.get(key), headers, idempotency_key)

    def create_upload(self) -> dict[str, Any]:
        """Where a client PUTs a document too large for a direct POST."""
        documents = self._documents()
        upload_id = str(uuid.uuid4())
        if self.settings.upload_url_base:  # the local stack's own upload endpoint
            url = f"{self.settings.upload_url_base}/valuation/uploads/{upload_id}"
        else:
            url = documents.upload_url(upload_key(upload_id), UPLOAD_URL_EXPIRES_SECONDS)
        return {
            "uploadId": upload_id,
            "url": url,
            "method": "PUT",
            "headers": {"Content-Type": "application/xml"},
            "maxBytes": self.settings.upload_max_bytes,
            "expiresInSeconds": UPLOAD_URL_EXPIRES_SECONDS,
        }

    def _documents(self):
        if self.store.documents is None:
            raise Problem(503, "Uploads unavailable", "no object store is configured")
        return self.store.documents

    def _accept(
        self, body: bytes, headers: Mapping[str, str], idempotency_key: str | None
    ) -> Submission:
        try:
            plan = read_plan(parse_xml(body).getroot())
        except XmlRejected as exc:
            extra = {"line": exc.line, "column": exc.column} if exc.line is not None else {}
            raise Problem(400, "Malformed or refused XML", str(exc), extra=extra) from None
        except InvalidRequest as exc:
            raise Problem(400, "Not a valuation request", str(exc)) from None

        request_id = str(uuid.uuid4())
        if idempotency_key:
            replay = self._claim(idempotency_key, request_id, body)
            if replay is not None:
                return replay
        kept = {name: headers[name] for name in self.settings.metadata_headers if name in headers}
        try:
            self.store.create(
                request_id, body.decode("utf-8"), plan,
                {"headers": json.dumps(kept), "userAgent": headers.get("user-agent", "")},
            )
        except Exception:
            if idempotency_key:  # the key must not point at a request that was never stored
                self.store.release_idempotency_key(idempotency_key, request_id)
            raise
        self._start(request_id)
        return Submission(request_id, "received")

    def retry(self, request_id: str) -> Submission:
        """Run a failed request again from the group that failed, keeping earlier results."""
        status = self.status(request_id)
        if status["status"] != "failed":
            raise Problem(
                409, "Conflict",
                f"request {request_id} is {status['status']}: only a failed request can be retried",
                request_id,
            )
        failed_group = next(
            (g["index"] for g in status["groups"] if g["status"] != "succeeded"), 0
        )
        try:
            run = self.store.reopen(request_id, failed_group)
        except RequestNotFailed:
            raise Problem(409, "Conflict", f"request {request_id} is being retried already",
                          request_id) from None
        self._start(request_id, run=run, resume_from_group=failed_group)
        return Submission(request_id, "received")

    def _start(self, request_id: str, *, run: int = 0, resume_from_group: int = 0) -> None:
        try:
            dispatch.start_execution(
                self.settings, request_id, run=run, resume_from_group=resume_from_group
            )
        except dispatch.DispatchError as exc:
            self.store.fail(request_id, {"error": "DispatchFailed", "cause": str(exc),
                                         "at": utcnow()})
            raise Problem(503, "Workflow unavailable", str(exc), request_id) from None

    def _claim(self, key: str, request_id: str, body: bytes) -> Submission | None:
        body_hash = hashlib.sha256(body).hexdigest()
        held = self.store.claim_idempotency_key(key, request_id, body_hash)
        if held is None:
            return None
        if held["bodyHash"] != body_hash:
            raise Problem(
                409, "Idempotency key reused",
                "this Idempotency-Key was used with a different body", held["requestId"],
            )
        status = self.store.state(held["requestId"]).get("status", "received")
        return Submission(held["requestId"], status, replayed=True)

    # -- read -----------------------------------------------------------------------------------

    def status(self, request_id: str) -> dict[str, Any]:
        state = self.store.state(request_id)
        if not state:
            self._missing(request_id)
        groups = self.store.groups(request_id, range(int(state.get("groupsTotal", 0))))
        execution_arn = state.get("executionArn")
        current = state.get("currentGroup", "")
        return {
            "requestId": request_id,
            "status": state["status"],
            "currentGroup": int(current) if current != "" else None,
            "groups": [
                {
                    "index": int(group["index"]),
                    "name": group["name"],
                    "status": group["status"],
                    "tasksTotal": int(group["tasksTotal"]),
                    "tasksSucceeded": int(group["tasksSucceeded"]),
                    "tasksFailed": int(group["tasksFailed"]),
                }
                for group in groups
                if group
            ],
            "createdAt": state["createdAt"],
            "updatedAt": state["updatedAt"],
            "execution": {
                "arn": execution_arn,
                "consoleUrl": dispatch.console_url(execution_arn) if execution_arn else None,
            },
        }

    def results(self, request_id: str) -> tuple[str, Any]:
        """("succeeded", response XML), ("pending", status) or raises the failure as a Problem."""
        status = self.status(request_id)
        if status["status"] == "succeeded":
            return "succeeded", self.store.response(request_id)
        if status["status"] == "failed":
            raise self.failure_problem(request_id, status)
        return "pending", status

    def failure_problem(self, request_id: str, status: dict[str, Any] | None = None) -> Problem:
        failure = self.store.failure(request_id) or {}
        status = status or self.status(request_id)
        group = failure.get("group")
        if isinstance(group, int) and group < len(status["groups"]):
            failure = {**failure, "groupName": status["groups"][group]["name"]}
        return Problem(
            422, "Valuation failed",
            failure.get("cause") or failure.get("error") or "the request failed",
            request_id, extra={"failure": failure},
        )

    def _missing(self, request_id: str) -> None:
        if self.store.is_expired(request_id):
            raise Problem(410, "Gone", f"request {request_id} has expired", request_id)
        raise Problem(404, "Not Found", f"no request {request_id}", request_id)

    # -- wait -----------------------------------------------------------------------------------

    def wait(
        self,
        request_id: str,
        timeout_ms: int,
        *,
        on_progress: Callable[[list[dict[str, str]]], None] | None = None,
        slice_ms: int = 1000,
    ) -> str | None:
        """Wait until the request is terminal; return its status, or None when time runs out.

        `event` blocks on the request's lifecycle stream, `hybrid` does the same in slices with a
        look at the state hash between them, `polling` only looks at the state hash.
        """
        mode = self.settings.wait_mode
        deadline = time.monotonic() + timeout_ms / 1000
        last_id = "0-0"
        while (remaining_ms := int((deadline - time.monotonic()) * 1000)) > 0:
            events: list[dict[str, str]] = []
            if mode == "polling":
                look = True
            else:
                block = min(remaining_ms, EVENT_BLOCK_MS if mode == "event" else slice_ms)
                entries = self.store.read_events(request_id, last_id, block_ms=max(block, 1))
                if entries:
                    last_id = entries[-1][0]
                events = [fields for _, fields in entries]
                # The state hash has the last word: a retry reopens a request that failed.
                look = any(e["event"] in TERMINAL for e in events) or (
                    mode == "hybrid" and not entries
                )
            status = self.store.state(request_id).get("status") if look else None
            if on_progress:
                on_progress(events)
            if status in TERMINAL:
                return status
            if mode == "polling":
                time.sleep(min(remaining_ms, POLL_INTERVAL_MS) / 1000)
        return None

    # -- health ---------------------------------------------------------------------------------

    def health(self) -> dict[str, bool]:
        try:
            redis_ok = bool(self.store.redis.ping())
        except Exception:  # any failure to answer is what health reports
            redis_ok = False
        return {"redis": redis_ok, "workflow": dispatch.engine_reachable(self.settings)}
