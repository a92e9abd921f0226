"""The Redis connection of this process.

In AWS it is ElastiCache over TLS (`rediss://`) with the AUTH secret from Secrets Manager; on the
local stack it is the server of REDIS_URL, or the embedded one the local stack installs.
"""

from __future__ import annotations

import threading

import redis

from ..settings import Settings, get_settings

MAX_CONNECTIONS = 256

_lock = threading.Lock()
_client: redis.Redis | None = None


def set_redis(client: redis.Redis | None) -> None:
    """Install the client every handler of this process uses (the local stack, tests)."""
    global _client
    with _lock:
        _client = client


def get_redis() -> redis.Redis:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                _client = connect(get_settings())
    return _client


def connect(settings: Settings) -> redis.Redis:
    if not settings.redis_url:
        raise RuntimeError(
            "REDIS_URL is not set: run on the local stack (valuation serve/run) or configure Redis"
        )
    password = _auth_secret(settings.redis_auth_secret_arn)
    options = {"decode_responses": True, "health_check_interval": 30, "socket_timeout": 30}
    if password is not None:
        options["password"] = password
    if settings.redis_cluster:
        return redis.RedisCluster.from_url(settings.redis_url, **options)
    # A Lambda invocation needs one connection; the local stack runs every handler of every
    # request on threads of one process, so callers wait for a free connection, not fail.
    pool = redis.BlockingConnectionPool.from_url(
        settings.redis_url, max_connections=MAX_CONNECTIONS, timeout=30, **options
    )
    return redis.Redis(connection_pool=pool)


def _auth_secret(secret_arn: str | None) -> str | None:
    if not secret_arn:
        return None
    from aws_lambda_powertools.utilities import parameters

    # Cached by Powertools across invocations of a warm function.
    return parameters.get_secret(secret_arn, max_age=300)
