"""moto's Step Functions interpreter, set up to run our definition fast.

Measured hot spots are patched here, once per process: the engine builds a new boto3 client for
every Lambda call (about 4 ms each, shared/notes/local-engine-profile.md), jsonpath_ng rebuilds
its parser for every expression it evaluates, every execution parses the whole definition with
ANTLR again (about 40 ms), and states copy their JSON data with `copy.deepcopy` (a fifth of the
engine's time). Caches and a faster copy of the same values: what the engine computes is
unchanged.
"""

from __future__ import annotations

import copy
import logging
from types import SimpleNamespace
from functools import cache, lru_cache
from typing import Any

from moto import mock_aws

_patched = False


def start_engine() -> Any:
    """Start moto with the state machine interpreter on; return the mock to stop later."""
    mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
    mock.start()
    # The interpreter logs every failed state with its whole parse tree; failures that matter
    # are recorded by RecordFailure and readable through the API.
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    _patch_once()
    return mock


def _patch_once() -> None:
    global _patched
    if _patched:
        return
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.component.common.string import string_expression
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state
    from moto.stepfunctions.parser.asl.eval import environment, states
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.utils import json_path
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    build_client = lambda_eval_utils.boto_client_for

    @cache
    def cached_client(region: str, service: str) -> Any:
        return build_client(region=region, service=service)

    def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        return cached_client(region, service)

    lambda_eval_utils.boto_client_for = client_for

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
