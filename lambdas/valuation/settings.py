"""The one place that reads configuration (DESIGN section 10).

Locally the values come from the environment; in AWS the CDK app sets the same names on every
function from `cdk.json` context. Names are a contract: operators and tests set them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def _bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    return default if raw in (None, "") else raw.strip().lower() in {"1", "true", "yes", "on"}


def _list(name: str, separator: str) -> tuple[str, ...]:
    raw = os.environ.get(name, "")
    return tuple(part.strip() for part in raw.split(separator) if part.strip())


WAIT_MODES = ("event", "hybrid", "polling")


@dataclass(frozen=True)
class Settings:
    redis_url: str | None
    redis_cluster: bool
    redis_auth_secret_arn: str | None
    task_engine_command: str | None
    task_timeout_seconds: int
    task_output_max_bytes: int
    max_task_retries: int
    retry_interval_seconds: int
    task_concurrency: int
    sync_wait_timeout_ms: int
    request_ttl_seconds: int
    tombstone_ttl_seconds: int
    idempotency_ttl_seconds: int
    payload_max_bytes: int
    upload_max_bytes: int
    claim_check_bytes: int
    hydration_data_roots: tuple[str, ...]
    hydration_max_passes: int
    metadata_headers: tuple[str, ...]
    wait_mode: str
    dispatch_dry_run: bool
    state_machine_arn: str | None
    document_bucket: str | None
    upload_url_base: str | None
    api_key: str | None
    aws_region: str
    lifecycle_stream_maxlen: int = 100_000
    env_function_allowlist: tuple[str, ...] = field(default=())

    @classmethod
    def from_env(cls) -> Settings:
        wait_mode = os.environ.get("WAIT_MODE", "hybrid").strip().lower()
        if wait_mode not in WAIT_MODES:
            raise ValueError(f"WAIT_MODE must be one of {', '.join(WAIT_MODES)}, not {wait_mode!r}")
        return cls(
            redis_url=os.environ.get("REDIS_URL") or None,
            redis_cluster=_bool("REDIS_CLUSTER"),
            redis_auth_secret_arn=os.environ.get("REDIS_AUTH_SECRET_ARN") or None,
            task_engine_command=os.environ.get("TASK_ENGINE_COMMAND") or None,
            task_timeout_seconds=_int("TASK_TIMEOUT_SECONDS", 60),
            task_output_max_bytes=_int("TASK_OUTPUT_MAX_BYTES", 4_000_000),
            max_task_retries=_int("MAX_TASK_RETRIES", 3),
            retry_interval_seconds=_int("RETRY_INTERVAL_SECONDS", 2),
            task_concurrency=_int("TASK_CONCURRENCY", 10),
            sync_wait_timeout_ms=_int("SYNC_WAIT_TIMEOUT_MS", 120_000),
            request_ttl_seconds=_int("REQUEST_TTL_SECONDS", 86_400),
            tombstone_ttl_seconds=_int("TOMBSTONE_TTL_SECONDS", 604_800),
            idempotency_ttl_seconds=_int("IDEMPOTENCY_TTL_SECONDS", 86_400),
            payload_max_bytes=_int("PAYLOAD_MAX_BYTES", 6_000_000),
            upload_max_bytes=_int("UPLOAD_MAX_BYTES", 104_857_600),
            claim_check_bytes=_int("CLAIM_CHECK_BYTES", 1_000_000),
            hydration_data_roots=_list("HYDRATION_DATA_ROOTS", ":") or ("./data",),
            hydration_max_passes=_int("HYDRATION_MAX_PASSES", 8),
            metadata_headers=tuple(h.lower() for h in _list("METADATA_HEADERS", ",")),
            wait_mode=wait_mode,
            dispatch_dry_run=_bool("DISPATCH_DRY_RUN"),
            state_machine_arn=os.environ.get("STATE_MACHINE_ARN") or None,
            document_bucket=os.environ.get("DOCUMENT_BUCKET") or None,
            upload_url_base=os.environ.get("UPLOAD_URL_BASE") or None,
            api_key=os.environ.get("API_KEY") or None,
            aws_region=os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or "us-east-1",
            env_function_allowlist=_list("HYDRATION_ENV_ALLOWLIST", ","),
        )


@cache
def get_settings() -> Settings:
    return Settings.from_env()


def reload_settings() -> Settings:
    """Forget the cached settings (tests and the local stack change the environment)."""
    get_settings.cache_clear()
    return get_settings()
