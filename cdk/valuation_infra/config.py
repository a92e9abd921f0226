"""The deployment's settings: the `valuation` object of `cdk.json` context, read and checked once.

Every key has a default (docs/deploy.md lists them); an unknown key or a bad value stops the
synth with a message naming the key. `-c valuation='{"workflowType": "EXPRESS"}'` on the CDK CLI
replaces the whole object, so keys it leaves out fall back to these defaults.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import aws_logs as logs

from valuation.settings import WAIT_MODES
from valuation.workflow.definition import TASK_STATE_TIMEOUT_MARGIN_SECONDS, DefinitionValues
from valuation.workflow.functions import API_FUNCTION, by_name

CONTEXT_KEY = "valuation"
WORKFLOW_TYPES = ("STANDARD", "EXPRESS")
AUTH_MODES = ("iam", "apiKey")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# The retention periods CloudWatch Logs offers, by days (CDK names them, jsii hides the numbers).
LOG_RETENTION = {
    1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS",
    30: "ONE_MONTH", 60: "TWO_MONTHS", 90: "THREE_MONTHS", 120: "FOUR_MONTHS",
    150: "FIVE_MONTHS", 180: "SIX_MONTHS", 365: "ONE_YEAR", 400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS", 731: "TWO_YEARS", 1096: "THREE_YEARS", 1827: "FIVE_YEARS",
    2192: "SIX_YEARS", 2557: "SEVEN_YEARS", 2922: "EIGHT_YEARS", 3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}

STANDARD_EXECUTION_TIMEOUT_SECONDS = 86_400  # a day bounds a stuck request
STANDARD_MAX_EXECUTION_SECONDS = 31_536_000
EXPRESS_MAX_EXECUTION_SECONDS = 300
# Each running task holds a Lambda instance: stay within an account's default concurrency.
MAX_TASK_CONCURRENCY = 1000
LAMBDA_SYNC_PAYLOAD_BYTES = 6_000_000  # a synchronous invoke carries at most 6 MB
S3_SINGLE_PUT_MAX_BYTES = 5 * 1024**3  # a presigned PUT is one request
# The api function's answer must reach API Gateway before its 29 s integration timeout.
SYNC_WAIT_MAX_MS = (API_FUNCTION.timeout_seconds - 1) * 1000


class ConfigError(ValueError):
    """A `cdk.json` context value the app cannot deploy."""


@dataclass(frozen=True)
class RedisConfig:
    major_engine_version: str
    max_data_storage_gb: int
    max_ecpu_per_second: int


@dataclass(frozen=True)
class HydrationConfig:
    data_roots: tuple[str, ...]
    max_passes: int
    env_allowlist: tuple[str, ...]
    read_buckets: tuple[str, ...]


@dataclass(frozen=True)
class ServiceConfig:
    workflow_type: str
    execution_timeout_seconds: int
    task_concurrency: int
    max_task_retries: int
    retry_interval_seconds: int
    task_timeout_seconds: int
    task_engine_command: str | None
    sync_wait_timeout_ms: int
    wait_mode: str
    request_ttl_seconds: int
    tombstone_ttl_seconds: int
    idempotency_ttl_seconds: int
    payload_max_bytes: int
    upload_max_bytes: int
    claim_check_bytes: int
    metadata_headers: tuple[str, ...]
    dispatch_dry_run: bool
    document_retention_days: int
    log_retention_days: int
    log_level: str
    auth_mode: str
    throttle_rate_limit: int
    throttle_burst_limit: int
    api_gateway_cloud_watch_role: bool
    redis: RedisConfig
    hydration: HydrationConfig

    @property
    def log_retention(self) -> logs.RetentionDays:
        return logs.RetentionDays[LOG_RETENTION[self.log_retention_days]]

    def definition_values(self) -> DefinitionValues:
        """The numbers rendered into the state machine definition."""
        return DefinitionValues(
            task_concurrency=self.task_concurrency,
            max_task_retries=self.max_task_retries,
            task_timeout_seconds=self.task_timeout_seconds,
            retry_interval_seconds=self.retry_interval_seconds,
            execution_timeout_seconds=self.execution_timeout_seconds,
            workflow_type=self.workflow_type,
        )

    def settings_environment(self) -> dict[str, str]:
        """The settings of DESIGN section 10 that come from context, as the functions read them."""
        environment = {
            "TASK_TIMEOUT_SECONDS": str(self.task_timeout_seconds),
            "MAX_TASK_RETRIES": str(self.max_task_retries),
            "RETRY_INTERVAL_SECONDS": str(self.retry_interval_seconds),
            "TASK_CONCURRENCY": str(self.task_concurrency),
            "SYNC_WAIT_TIMEOUT_MS": str(self.sync_wait_timeout_ms),
            "WAIT_MODE": self.wait_mode,
            "REQUEST_TTL_SECONDS": str(self.request_ttl_seconds),
            "TOMBSTONE_TTL_SECONDS": str(self.tombstone_ttl_seconds),
            "IDEMPOTENCY_TTL_SECONDS": str(self.idempotency_ttl_seconds),
            "PAYLOAD_MAX_BYTES": str(self.payload_max_bytes),
            "UPLOAD_MAX_BYTES": str(self.upload_max_bytes),
            "CLAIM_CHECK_BYTES": str(self.claim_check_bytes),
            "HYDRATION_MAX_PASSES": str(self.hydration.max_passes),
            "DISPATCH_DRY_RUN": str(self.dispatch_dry_run).lower(),
        }
        # Unset means the handler's own default (built-in engine, no headers kept, ...).
        optional = {
            "TASK_ENGINE_COMMAND": self.task_engine_command or "",
            "METADATA_HEADERS": ",".join(self.metadata_headers),
            "HYDRATION_DATA_ROOTS": ":".join(self.hydration.data_roots),
            "HYDRATION_ENV_ALLOWLIST": ",".join(self.hydration.env_allowlist),
        }
        environment.update({name: value for name, value in optional.items() if value})
        return environment


def load_config(context: Any) -> ServiceConfig:
    """Read the `valuation` context value (an object, or its JSON text from `-c`)."""
    if context is None:
        context = {}
    if isinstance(context, str):
        try:
            context = json.loads(context)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"context {CONTEXT_KEY!r} is not valid JSON: {exc}") from None
    root = _Section(context, CONTEXT_KEY)

    workflow_type = root.choice("workflowType", "STANDARD", WORKFLOW_TYPES)
    express = workflow_type == "EXPRESS"
    longest = EXPRESS_MAX_EXECUTION_SECONDS if express else STANDARD_MAX_EXECUTION_SECONDS
    execution_timeout = root.integer(
        "executionTimeoutSeconds",
        EXPRESS_MAX_EXECUTION_SECONDS if express else STANDARD_EXECUTION_TIMEOUT_SECONDS,
        minimum=1, maximum=longest, why=f"{workflow_type} executions run at most {longest} s",
    )
    run_task_timeout = by_name("RunTask").timeout_seconds
    request_ttl = root.integer("requestTtlSeconds", 86_400, minimum=1)
    payload_max = root.integer(
        "payloadMaxBytes", 6_000_000, minimum=1, maximum=LAMBDA_SYNC_PAYLOAD_BYTES,
        why="a direct body reaches the api function in one synchronous invoke",
    )
    # S3 must keep a document until its request's keys have expired.
    needed_days = math.ceil((execution_timeout + request_ttl) / 86_400)

    config = ServiceConfig(
        workflow_type=workflow_type,
        execution_timeout_seconds=execution_timeout,
        task_concurrency=root.integer(
            "taskConcurrency", 10, minimum=1, maximum=MAX_TASK_CONCURRENCY,
            why="every running task holds one of the account's 1,000 default Lambda instances",
        ),
        max_task_retries=root.integer("maxTaskRetries", 3, minimum=0, maximum=20),
        retry_interval_seconds=root.integer("retryIntervalSeconds", 2, minimum=1, maximum=3600),
        task_timeout_seconds=root.integer(
            "taskTimeoutSeconds", 60, minimum=1,
            maximum=run_task_timeout - TASK_STATE_TIMEOUT_MARGIN_SECONDS,
            why=f"the RunTask function stops after {run_task_timeout} s",
        ),
        task_engine_command=root.optional_string("taskEngineCommand"),
        sync_wait_timeout_ms=root.integer(
            "syncWaitTimeoutMs", 28_000, minimum=1, maximum=SYNC_WAIT_MAX_MS,
            why=f"the api function stops after {API_FUNCTION.timeout_seconds} s",
        ),
        wait_mode=root.choice("waitMode", "hybrid", WAIT_MODES),
        request_ttl_seconds=request_ttl,
        tombstone_ttl_seconds=root.integer("tombstoneTtlSeconds", 604_800, minimum=1),
        idempotency_ttl_seconds=root.integer("idempotencyTtlSeconds", 86_400, minimum=1),
        payload_max_bytes=payload_max,
        upload_max_bytes=root.integer(
            "uploadMaxBytes", 104_857_600, minimum=payload_max, maximum=S3_SINGLE_PUT_MAX_BYTES,
            why="uploads take over above the direct limit and are one S3 PUT",
        ),
        claim_check_bytes=root.integer("claimCheckBytes", 1_000_000, minimum=1),
        metadata_headers=root.strings("metadataHeaders"),
        dispatch_dry_run=root.boolean("dispatchDryRun", False),
        document_retention_days=root.integer(
            "documentRetentionDays", 7, minimum=needed_days,
            why="documents must outlive executionTimeoutSeconds + requestTtlSeconds",
        ),
        log_retention_days=root.choice("logRetentionDays", 30, tuple(LOG_RETENTION)),
        log_level=root.choice("logLevel", "INFO", LOG_LEVELS),
        auth_mode=root.choice("authMode", "iam", AUTH_MODES),
        throttle_rate_limit=root.integer("throttleRateLimit", 100, minimum=1),
        throttle_burst_limit=root.integer("throttleBurstLimit", 200, minimum=1),
        api_gateway_cloud_watch_role=root.boolean("apiGatewayCloudWatchRole", True),
        redis=_redis(root.section("redis")),
        hydration=_hydration(root.section("hydration")),
    )
    root.reject_unknown()
    return config


def _redis(section: _Section) -> RedisConfig:
    config = RedisConfig(
        major_engine_version=section.choice("majorEngineVersion", "8", ("7", "8")),
        # ElastiCache Serverless bounds: 1-5,000 GB and 1,000-15,000,000 ECPU per second.
        max_data_storage_gb=section.integer("maxDataStorageGb", 10, minimum=1, maximum=5_000),
        max_ecpu_per_second=section.integer(
            "maxEcpuPerSecond", 100_000, minimum=1_000, maximum=15_000_000
        ),
    )
    section.reject_unknown()
    return config


def _hydration(section: _Section) -> HydrationConfig:
    config = HydrationConfig(
        data_roots=section.strings("dataRoots"),
        max_passes=section.integer("maxPasses", 8, minimum=1, maximum=100),
        env_allowlist=section.strings("envAllowlist"),
        read_buckets=section.strings("readBuckets"),
    )
    section.reject_unknown()
    return config


class _Section:
    """One context object: typed reads with defaults, and errors that name the key."""

    def __init__(self, values: Any, path: str):
        if not isinstance(values, Mapping):
            raise ConfigError(f"context {path} must be an object, not {values!r}")
        self._values = values
        self._path = path
        self._read: set[str] = set()

    def _get(self, key: str, default: Any) -> Any:
        self._read.add(key)
        value = self._values.get(key)
        return default if value is None else value

    def _fail(self, key: str, expected: str, value: Any, why: str | None = None) -> ConfigError:
        reason = f" ({why})" if why else ""
        return ConfigError(f"context {self._path}.{key} must be {expected}{reason}, not {value!r}")

    def integer(
        self, key: str, default: int, *, minimum: int, maximum: int | None = None,
        why: str | None = None,
    ) -> int:
        value = self._get(key, default)
        valid = (
            isinstance(value, int) and not isinstance(value, bool)
            and value >= minimum and (maximum is None or value <= maximum)
        )
        if not valid:
            bounds = f"≥ {minimum}" if maximum is None else f"between {minimum} and {maximum}"
            raise self._fail(key, f"an integer {bounds}", value, why)
        return value

    def choice(self, key: str, default: Any, choices: tuple[Any, ...]) -> Any:
        value = self._get(key, default)
        if isinstance(value, bool) or value not in choices:
            raise self._fail(key, "one of " + ", ".join(map(str, choices)), value)
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self._fail(key, "true or false", value)
        return value

    def optional_string(self, key: str) -> str | None:
        value = self._get(key, None)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise self._fail(key, "a non-empty string or null", value)
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self._get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self._fail(key, "a list of non-empty strings", value)
        return tuple(value)

    def section(self, key: str) -> _Section:
        return _Section(self._get(key, {}), f"{self._path}.{key}")

    def reject_unknown(self) -> None:
        unknown = sorted(set(self._values) - self._read)
        if unknown:
            raise ConfigError(
                f"context {self._path} has unknown keys: {', '.join(unknown)} "
                f"(known: {', '.join(sorted(self._read))})"
            )
