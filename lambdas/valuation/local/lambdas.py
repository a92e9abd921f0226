"""In-process Lambda: the state machine's Invoke calls are served by the handlers themselves.

A botocore `before-call.lambda.Invoke` hook answers the call before any request is sent, with the
response Lambda would give: the handler's JSON result, or its error payload with `FunctionError`.
"""

from __future__ import annotations

import importlib
import io
import json
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody

from ..workflow.functions import RECONCILE_FUNCTION, WORKFLOW_FUNCTIONS, FunctionSpec

ACCOUNT = "123456789012"


def function_arn(region: str, spec: FunctionSpec) -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT}:function:valuation-{spec.name}"


@dataclass
class LocalContext:
    """The parts of Lambda's context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "local"
    log_stream_name: str = "local"
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_seconds * 1000


class LocalLambda:
    """Maps function names to handlers and serves `Invoke` calls in-process."""

    # What Step Functions and EventBridge invoke; the api function is called by the HTTP server.
    INVOKED = (*WORKFLOW_FUNCTIONS, RECONCILE_FUNCTION)

    def __init__(self, region: str, specs: tuple[FunctionSpec, ...] = INVOKED):
        self.region = region
        self._functions: dict[str, tuple[FunctionSpec, Callable[..., Any]]] = {}
        for spec in specs:
            module = importlib.import_module(spec.module)
            self._functions[f"valuation-{spec.name}"] = (spec, module.handler)

    def arns(self) -> dict[str, str]:
        """ASL placeholder -> function ARN, for rendering the definition."""
        return {spec.placeholder: function_arn(self.region, spec)
                for spec, _ in self._functions.values()}

    def invoke(self, function: str, payload: Any) -> tuple[Any, str | None]:
        """Run a handler; return its result, or Lambda's error payload and 'Unhandled'."""
        name = function.rsplit(":function:", 1)[-1].split(":", 1)[0]
        spec, handler = self._functions[name]
        context = LocalContext(
            name, function_arn(self.region, spec), spec.memory_mb, spec.timeout_seconds
        )
        try:
            return handler(payload, context), None
        except Exception as exc:  # Lambda reports every uncaught exception the same way
            return {
                "errorMessage": str(exc),
                "errorType": type(exc).__name__,
                "stackTrace": traceback.format_tb(exc.__traceback__),
            }, "Unhandled"

    def on_before_call(self, params: dict, **_: Any) -> tuple[AWSResponse, dict]:
        """The botocore hook: answer `lambda.Invoke` without sending anything."""
        function = unquote(params["url_path"].split("/functions/", 1)[1].split("/", 1)[0])
        body = params.get("body") or b"{}"
        result, error = self.invoke(function, json.loads(body))
        payload = json.dumps(result).encode()
        parsed = {
            "StatusCode": 200,
            "ExecutedVersion": "$LATEST",
            "Payload": StreamingBody(io.BytesIO(payload), len(payload)),
        }
        if error:
            parsed["FunctionError"] = error
        return AWSResponse(params["url"], 200, {}, None), parsed
