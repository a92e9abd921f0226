"""moto's Step Functions interpreter, set up to run our definition fast.

Patched here, once per process. The engine reports every execution that ends to the listeners
in `EXECUTION_LISTENERS`, as EventBridge's status-change events do in AWS. Its measured hot
spots are made fast without changing what it computes: it built a new boto3 client for every
Lambda call (about 4 ms each, shared/notes/local-engine-profile.md), jsonpath_ng rebuilt its
parser for every expression, every execution parsed the whole definition with ANTLR again
(about 40 ms), and states copied their JSON data with `copy.deepcopy` (a fifth of its time).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

import boto3
from botocore.config import Config
from moto import mock_aws

_patched = False
# The running local stack's session: the clients the engine makes from it carry its Invoke hook.
_stack_session: boto3.Session | None = None
# What moto's own clients are made with: no validation, no retries (the definition retries).
ENGINE_CLIENT_CONFIG = Config(parameter_validation=False, retries={"total_max_attempts": 1})
# Called with each moto Execution that has ended, on the thread that ran it.
EXECUTION_LISTENERS: list[Callable[[Any], None]] = []


def start_engine(session: boto3.Session) -> Any:
    """Start moto with the state machine interpreter on, its Lambda calls made through
    `session`; return the mock to stop later."""
    global _stack_session
    _stack_session = session
    mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
    mock.start()
    # The interpreter logs every failed state with its whole parse tree; failures that matter
    # are recorded by RecordFailure and readable through the API.
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    _patch_once()
    return mock


def stop_engine(mock: Any) -> None:
    global _stack_session
    _stack_session = None
    mock.stop()


def _patch_once() -> None:
    global _patched
    if _patched:
        return
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.component.common.string import string_expression
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.eval import environment, states
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.utils import json_path
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    @lru_cache(maxsize=8)
    def cached_client(session: boto3.Session, region: str, service: str) -> Any:
        return session.client(service, region_name=region, config=ENGINE_CLIENT_CONFIG)

    def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        session = _stack_session
        if session is None:  # an execution that outlived its stack
            raise RuntimeError("the local stack has stopped")
        return cached_client(session, region, service)

    lambda_eval_utils.boto_client_for = client_for

    record_end = BaseExecutionWorkerCommunication.terminated

    def terminated(communication: Any) -> None:
        record_end(communication)
        for listener in list(EXECUTION_LISTENERS):
            listener(communication.execution)

    BaseExecutionWorkerCommunication.terminated = terminated

    # A parsed program keeps no state of its own (the environment does): the iterations of one
    # Map already evaluate the same components at once, so executions may share them too.
    @lru_cache(maxsize=16)
    def program(definition: str) -> Any:
        return AmazonStateLanguageParser.parse(definition)[0]

    ExecutionWorker._get_evaluation_entrypoint = lambda worker: program(
        worker._evaluation_details.state_machine_details.definition
    )
    for module in (states, environment, execute_state, string_expression):
        module.copy = SimpleNamespace(deepcopy=_copy_json)
    json_path.parse = lru_cache(maxsize=4096)(json_path.parse)
    result_path.parse = lru_cache(maxsize=4096)(result_path.parse)
    _patched = True


_IMMUTABLE = (str, int, float, bool, type(None))


def _copy_json(value: Any) -> Any:
    """`copy.deepcopy` for JSON values without its memo bookkeeping; anything else is handed to
    `copy.deepcopy` itself."""
    kind = type(value)
    if kind is dict:
        return {k: v if type(v) in _IMMUTABLE else _copy_json(v) for k, v in value.items()}
    if kind is list:  # a Map's items are copied for every iteration: no call per string
        return [v if type(v) in _IMMUTABLE else _copy_json(v) for v in value]
    if kind in _IMMUTABLE:
        return value
    return copy.deepcopy(value)
