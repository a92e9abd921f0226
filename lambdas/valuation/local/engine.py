"""moto's Step Functions interpreter, set up to run our definition fast.

Two measured hot spots (shared/notes/local-engine-profile.md) are patched here, once per process:
the engine builds a new boto3 client for every Lambda call (about 4 ms each), and jsonpath_ng
rebuilds its parser for every expression it evaluates. Both are pure caches: what the engine
computes is unchanged.
"""

from __future__ import annotations

import logging
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
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.utils import json_path

    build_client = lambda_eval_utils.boto_client_for

    @cache
    def cached_client(region: str, service: str) -> Any:
        return build_client(region=region, service=service)

    def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        return cached_client(region, service)

    lambda_eval_utils.boto_client_for = client_for
    json_path.parse = lru_cache(maxsize=4096)(json_path.parse)
    result_path.parse = lru_cache(maxsize=4096)(result_path.parse)
    _patched = True
