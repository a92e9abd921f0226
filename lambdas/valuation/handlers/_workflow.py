"""What the workflow handlers share: one Workflow per process, and their logging."""

from __future__ import annotations

from functools import cache

from aws_lambda_powertools import Logger

from ..settings import get_settings
from ..store import RequestStore, get_redis
from ..workflow.steps import Workflow

logger = Logger(service="valuation")


@cache
def workflow() -> Workflow:
    return Workflow(RequestStore(get_redis(), get_settings()), get_settings())
