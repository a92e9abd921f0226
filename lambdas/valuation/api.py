"""The HTTP API (DESIGN section 4) on Powertools' REST resolver, over `ValuationService`."""

from __future__ import annotations

import base64
import json
import queue
from functools import cache
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Header, Query

from . import openapi
from .openapi import XML_DOCUMENT, json_body, problem
from .service import Problem, Submission, ValuationService
from .settings import get_settings
from .store import RequestStore, get_redis

logger = Logger(service="valuation")

XML = "application/xml"
XML_CONTENT_TYPES = ("application/xml", "text/xml")
NO_STORE = {"Cache-Control": "no-store"}
TITLE = "Valuation orchestration service"
VERSION = "1.0.0"


@cache
def service() -> ValuationService:
    return ValuationService(RequestStore(get_redis(), get_settings()), get_settings())


def forget_service() -> None:
    """Drop the cached service (the local stack and tests swap Redis and settings)."""
    service.cache_clear()


def openapi_document() -> dict[str, Any]:
    return openapi.finish(create_app().get_openapi_schema(title=TITLE, version=VERSION).model_dump(
        mode="json", by_alias=True, exclude_none=True))


def problem_response(error: Problem) -> Response:
    headers = dict(NO_STORE)
    if error.request_id:
        headers["X-Request-Id"] = error.request_id
    return Response(error.status, openapi.PROBLEM, json.dumps(error.as_dict()), headers=headers)


def create_app() -> APIGatewayRestResolver:
    """The API's resolver with every route. A resolver keeps the request it serves on itself,
    so each serves one request at a time (see `resolve`)."""
    app = APIGatewayRestResolver(enable_validation=True)
    app.exception_handler(Problem)(problem_response)

    @app.exception_handler(RequestValidationError)
    def invalid_parameters(error: RequestValidationError) -> Response:
        detail = "; ".join(
            f"{'.'.join(str(part) for part in e['loc'])}: {e.get('msg', e['type'])}"
            for e in error.errors()
        )
        return problem_response(Problem(400, "Bad Request", detail))

    @app.not_found
    def not_found(_: Exception) -> Response:
        return problem_response(Problem(404, "Not Found", f"no route {app.current_event.path}"))

    @app.post(
        "/valuation",
        operation_id="submitValuation",
        summary="Submit a valuation request",
        description="The body is the request XML; or no body and X-Upload-Id naming an upload.",
        responses={
            200: {"description": "mode=sync: the response document", "content": XML_DOCUMENT},
            202: {"description": "accepted; the work goes on", "content": json_body("Accepted")},
            400: problem("malformed, hostile or invalid XML, or an unknown upload"),
            409: problem("the Idempotency-Key was used with a different body"),
            413: problem("the body is larger than the direct limit (use an upload)"),
            415: problem("the body is not XML"),
            422: problem("mode=sync: the request failed"),
            503: problem("the workflow could not be started"),
        },
    )
    def submit(
        mode: Annotated[Literal["async", "sync"], Query()] = "async",
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
        upload_id: Annotated[str | None, Header(alias="X-Upload-Id")] = None,
    ):
        event = app.current_event
        headers = {name.lower(): value for name, value in (event.headers or {}).items()}
        if upload_id:
            submission = service().submit_upload(upload_id, headers, idempotency_key)
        else:
            content_type = headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type not in XML_CONTENT_TYPES:
                raise Problem(415, "Unsupported Media Type",
                              f"send the request as {' or '.join(XML_CONTENT_TYPES)}")
            submission = service().submit(_body_bytes(event), headers, idempotency_key)
        if mode == "sync" and not submission.replayed:
            return _wait_for(submission)
        return _accepted(submission.request_id, submission.status)

    @app.post(
        "/valuation/uploads",
        operation_id="createUpload",
        summary="Start an upload of a large request",
        description="PUT the XML to the returned URL, then POST /valuation with X-Upload-Id.",
        responses={
            201: {"description": "where to PUT the document", "content": json_body("Upload")},
            503: problem("no object store is configured"),
        },
    )
    def create_upload():
        return _json(201, service().create_upload())

    @app.get(
        "/valuation/<request_id>/status",
        operation_id="getStatus",
        summary="The state of a request",
        responses={
            200: {"description": "the request's state", "content": json_body("Status")},
            404: problem("no such request"),
            410: problem("the request has expired"),
        },
    )
    def status(request_id: str):
        return _json(200, service().status(request_id), request_id)

    @app.get(
        "/valuation/<request_id>/results",
        operation_id="getResults",
        summary="The response document of a request",
        responses={
            200: {"description": "the response document", "content": XML_DOCUMENT},
            202: {"description": "still in progress", "content": json_body("Status")},
            404: problem("no such request"),
            410: problem("the request has expired"),
            422: problem("the request failed"),
        },
    )
    def results(request_id: str):
        outcome, payload = service().results(request_id)
        if outcome == "succeeded":
            return _xml(payload, request_id)
        return _json(202, {**payload, "links": _links(request_id)}, request_id)

    @app.post(
        "/valuation/<request_id>/retry",
        operation_id="retryValuation",
        summary="Run a failed request again from the group that failed",
        responses={
            202: {"description": "accepted", "content": json_body("Accepted")},
            404: problem("no such request"),
            409: problem("the request has not failed"),
            410: problem("the request has expired"),
            503: problem("the workflow could not be started"),
        },
    )
    def retry(request_id: str):
        submission = service().retry(request_id)
        return _accepted(submission.request_id, submission.status)

    @app.get(
        "/healthz",
        operation_id="getHealth",
        summary="Whether Redis and the workflow engine answer",
        responses={
            200: {"description": "healthy", "content": json_body("Health")},
            503: problem("something does not answer"),
        },
    )
    def healthz():
        checks = service().health()
        failing = [name for name, ok in checks.items() if not ok]
        if failing:
            raise Problem(503, "Unhealthy", f"not answering: {', '.join(failing)}",
                          extra={"checks": checks})
        return _json(200, {"status": "ok", "checks": checks})

    return app


_idle_apps: queue.SimpleQueue[APIGatewayRestResolver] = queue.SimpleQueue()


def resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Serve one API Gateway event on a resolver of its own: Lambda reuses the one it has; the
    local stack's server threads, serving at once, take one each."""
    try:
        app = _idle_apps.get_nowait()
    except queue.Empty:
        app = create_app()
    try:
        return app.resolve(event, context)
    finally:
        _idle_apps.put(app)


def _wait_for(submission: Submission) -> Response:
    request_id = submission.request_id
    outcome = service().wait(request_id, get_settings().sync_wait_timeout_ms)
    if outcome == "succeeded":
        return _xml(service().store.response(request_id), request_id)
    if outcome == "failed":
        raise service().failure_problem(request_id)
    return _accepted(request_id, service().store.state(request_id).get("status", "received"))


def _accepted(request_id: str, status: str) -> Response:
    body = {"requestId": request_id, "status": status, "links": _links(request_id)}
    return _json(202, body, request_id, Location=f"/valuation/{request_id}/status")


def _links(request_id: str) -> dict[str, str]:
    return {
        "status": f"/valuation/{request_id}/status",
        "results": f"/valuation/{request_id}/results",
    }


def _json(status: int, body: Any, request_id: str | None = None, **headers: str) -> Response:
    headers.update(NO_STORE)
    if request_id:
        headers["X-Request-Id"] = request_id
    return Response(status, "application/json", json.dumps(body), headers=headers)


def _xml(document: str, request_id: str) -> Response:
    return Response(200, XML, document, headers={"X-Request-Id": request_id, **NO_STORE})


def _body_bytes(event: Any) -> bytes:
    raw = event.body or ""
    return base64.b64decode(raw) if event.is_base64_encoded else raw.encode("utf-8")
