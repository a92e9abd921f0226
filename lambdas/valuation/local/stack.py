"""The local stack (DESIGN section 3): one process holding the workflow engine, the functions,
Redis and (with `serve`) the HTTP API, wired exactly as in AWS but without an account."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from typing import Any

import boto3

from .. import api, dispatch
from ..documents import DocumentStore
from ..handlers import _workflow
from ..settings import Settings, reload_settings
from ..store import set_redis
from ..store.connection import connect
from ..workflow.definition import DefinitionValues, load_template, render
from ..workflow.functions import RECONCILE_FUNCTION
from .engine import EXECUTION_LISTENERS, start_engine, stop_engine
from .lambdas import ACCOUNT, LocalLambda, function_arn

STATE_MACHINE_NAME = "valuation"
# The statuses that reach the reconcile function (a Catch records every other failure).
RECONCILED = ("FAILED", "TIMED_OUT", "ABORTED")
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/valuation-local"

# Credentials moto accepts; set only where none are configured, and never sent anywhere.
LOCAL_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "DOCUMENT_BUCKET": "valuation-documents-local",
}


class LocalStack:
    """Start with `with LocalStack() as stack:`; `env` overrides settings for this stack."""

    def __init__(self, env: Mapping[str, str] | None = None):
        self._overrides = dict(env or {})
        self._saved_env: dict[str, str | None] = {}
        self._mock: Any = None
        self._lambdas: LocalLambda | None = None
        self.settings: Settings | None = None
        self.state_machine_arn: str | None = None
        self.function_arns: dict[str, str] = {}

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop()

    def start(self) -> None:
        for name, value in LOCAL_AWS_ENV.items():
            if name not in os.environ:
                self._set_env(name, value)
        for name, value in self._overrides.items():
            self._set_env(name, value)
        settings = reload_settings()
        self._lambdas = LocalLambda(settings.aws_region)
        session = boto3.Session(region_name=settings.aws_region)
        session.events.register("before-call.lambda.Invoke", self._lambdas.on_before_call)
        boto3.DEFAULT_SESSION = session
        self._mock = start_engine(session)
        set_redis(connect(settings) if settings.redis_url else _embedded_redis())
        DocumentStore(settings.document_bucket, settings.aws_region).ensure_bucket()
        self.function_arns = self._lambdas.arns()
        definition = render(
            load_template(), DefinitionValues.from_settings(settings).as_substitutions(),
            self.function_arns,
        )
        self.state_machine_arn = dispatch.create_state_machine(
            settings, STATE_MACHINE_NAME, definition, ROLE_ARN
        )
        self._set_env("STATE_MACHINE_ARN", self.state_machine_arn)
        self.settings = reload_settings()
        _forget_cached_services()
        EXECUTION_LISTENERS.append(self._on_execution_end)

    def configure(self, **env: str) -> Settings:
        """Change settings of the running stack (e.g. the URL its server ended up on)."""
        for name, value in env.items():
            self._set_env(name, value)
        self.settings = reload_settings()
        _forget_cached_services()
        return self.settings

    def stop(self) -> None:
        if self._on_execution_end in EXECUTION_LISTENERS:
            EXECUTION_LISTENERS.remove(self._on_execution_end)
        if self._mock is not None:
            stop_engine(self._mock)
            self._mock = None
        boto3.DEFAULT_SESSION = None
        set_redis(None)
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()
        reload_settings()
        _forget_cached_services()

    def _on_execution_end(self, execution: Any) -> None:
        """What the CDK app's EventBridge rule does: the failed, timed-out and aborted
        executions of this state machine go to the reconcile function."""
        status = str(execution.exec_status.value)
        if execution.state_machine_arn != self.state_machine_arn or status not in RECONCILED:
            return
        self._lambdas.invoke(function_arn(self.settings.aws_region, RECONCILE_FUNCTION), {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Step Functions Execution Status Change",
            "source": "aws.states",
            "account": ACCOUNT,
            "time": execution.stop_date.isoformat(),
            "region": self.settings.aws_region,
            "resources": [execution.execution_arn],
            "detail": {
                "executionArn": execution.execution_arn,
                "stateMachineArn": execution.state_machine_arn,
                "name": execution.name,
                "status": status,
                "error": execution.error,
                "cause": execution.cause,
            },
        })

    def _set_env(self, name: str, value: str) -> None:
        self._saved_env.setdefault(name, os.environ.get(name))
        os.environ[name] = value


def _embedded_redis() -> Any:
    import fakeredis

    return fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)


def _forget_cached_services() -> None:
    api.forget_service()
    _workflow.workflow.cache_clear()
