"""All workflow dispatch goes through this module (DESIGN section 8).

It is the only module that creates a Step Functions client; a guard test keeps it that way. With
DISPATCH_DRY_RUN=true it logs what it would start instead of starting it.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .settings import Settings

logger = Logger(service="valuation")

DRY_RUN_ARN_PREFIX = "dry-run:"


class DispatchError(RuntimeError):
    """Step Functions did not start the execution."""


@cache
def _client(region: str) -> Any:
    # Fail fast: a slow Step Functions is reported to the client as 503, not retried for long.
    return boto3.client(
        "stepfunctions",
        region_name=region,
        config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5),
    )


def execution_name(request_id: str, run: int = 0) -> str:
    """The execution of a request is named after it; a retry adds -rN."""
    return request_id if run == 0 else f"{request_id}-r{run}"


def request_id_of(execution_arn: str) -> str:
    """The request an execution runs: its name, less a retry's -rN."""
    name = execution_arn.rsplit(":", 1)[-1]
    return re.sub(r"-r\d+$", "", name)


def start_execution(
    settings: Settings, request_id: str, *, run: int = 0, resume_from_group: int = 0
) -> str:
    """Start the workflow for a stored request; return the execution ARN."""
    name = execution_name(request_id, run)
    payload = {"requestId": request_id, "resumeFromGroup": resume_from_group}
    if settings.dispatch_dry_run:
        logger.info(
            "dry run: execution not started", extra={"executionName": name, "input": payload}
        )
        return f"{DRY_RUN_ARN_PREFIX}{name}"
    if not settings.state_machine_arn:
        raise DispatchError("STATE_MACHINE_ARN is not configured")
    try:
        response = _client(settings.aws_region).start_execution(
            stateMachineArn=settings.state_machine_arn, name=name, input=json.dumps(payload)
        )
    except (ClientError, BotoCoreError) as exc:
        raise DispatchError(f"could not start execution {name}: {exc}") from exc
    return response["executionArn"]


def engine_reachable(settings: Settings) -> bool:
    """Whether the workflow engine answers (for /healthz)."""
    if settings.dispatch_dry_run:
        return True
    if not settings.state_machine_arn:
        return False
    try:
        _client(settings.aws_region).describe_state_machine(
            stateMachineArn=settings.state_machine_arn
        )
    except (ClientError, BotoCoreError):
        return False
    return True


def history_event_count(settings: Settings, execution_arn: str) -> int:
    """How many events an execution's history holds (the history budget of a design)."""
    pages = _client(settings.aws_region).get_paginator("get_execution_history").paginate(
        executionArn=execution_arn
    )
    return sum(len(page["events"]) for page in pages)


def create_state_machine(settings: Settings, name: str, definition: str, role_arn: str) -> str:
    """Register a state machine (the local stack's set-up); return its ARN."""
    response = _client(settings.aws_region).create_state_machine(
        name=name, definition=definition, roleArn=role_arn, type="STANDARD"
    )
    return response["stateMachineArn"]


def console_url(execution_arn: str) -> str | None:
    """Where support staff open an execution in the AWS console."""
    if not execution_arn.startswith("arn:aws:states:"):
        return None
    region = execution_arn.split(":")[3]
    return (
        f"https://{region}.console.aws.amazon.com/states/home?region={region}"
        f"#/v2/executions/details/{execution_arn}"
    )
