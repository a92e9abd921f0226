"""Shared fixtures: the local stack against the real Redis server of REDIS_URL."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
import redis

from support import SCRIPTED_ENGINE


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The real Redis server integration tests use: a missing one fails them, never skips."""
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.fail("REDIS_URL is not set: integration tests need a Redis server (see README)")
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as exc:
        pytest.fail(f"the Redis server at {url} does not answer: {exc}")
    return url


@pytest.fixture
def local_stack(redis_url: str) -> Iterator[Callable[..., object]]:
    """Start a local stack on real Redis; keyword arguments override settings."""
    from valuation.local import LocalStack

    started: list[LocalStack] = []

    def start(**env: str) -> LocalStack:
        settings = {
            "REDIS_URL": redis_url,
            "TASK_ENGINE_COMMAND": SCRIPTED_ENGINE,
            "RETRY_INTERVAL_SECONDS": "1",
            **env,
        }
        stack = LocalStack(settings)
        stack.start()
        started.append(stack)
        return stack

    yield start
    for stack in reversed(started):
        stack.stop()

