"""The `valuation` context: defaults, validation with errors that name the key, and the docs."""

from __future__ import annotations

import re

import pytest

from infra_support import CDK_JSON_CONTEXT, REPO
from valuation.settings import Settings
from valuation_infra.config import CONTEXT_KEY, ConfigError, load_config


def test_cdk_json_is_a_valid_configuration():
    load_config(CDK_JSON_CONTEXT[CONTEXT_KEY])


def test_without_context_every_setting_has_its_default():
    config = load_config(None)
    assert config.workflow_type == "STANDARD"
    assert config.execution_timeout_seconds == 86_400
    assert config.auth_mode == "iam"
    assert config.sync_wait_timeout_ms == 28_000
    assert config.redis.max_data_storage_gb == 10


def test_express_defaults_to_its_five_minute_limit():
    assert load_config({"workflowType": "EXPRESS"}).execution_timeout_seconds == 300


def test_the_cli_may_pass_the_object_as_json_text():
    assert load_config('{"taskConcurrency": 4}').task_concurrency == 4


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"workflowType": "express"}, "valuation.workflowType must be one of STANDARD, EXPRESS"),
        ({"workflowType": "EXPRESS", "executionTimeoutSeconds": 3600}, "at most 300 s"),
        ({"taskConcurrency": 0}, "valuation.taskConcurrency must be an integer between 1 and 1000"),
        ({"taskConcurrency": True}, "valuation.taskConcurrency"),
        ({"taskConcurrency": "10"}, "valuation.taskConcurrency"),
        ({"taskTimeoutSeconds": 900}, "the RunTask function stops after 900 s"),
        ({"syncWaitTimeoutMs": 29_000}, "valuation.syncWaitTimeoutMs"),
        ({"payloadMaxBytes": 7_000_000}, "one synchronous invoke"),
        ({"uploadMaxBytes": 1000}, "valuation.uploadMaxBytes"),
        ({"documentRetentionDays": 1}, "executionTimeoutSeconds + requestTtlSeconds"),
        ({"authMode": "cognito"}, "valuation.authMode must be one of iam, apiKey"),
        ({"logRetentionDays": 31}, "valuation.logRetentionDays"),
        ({"metadataHeaders": "X-Desk"}, "valuation.metadataHeaders must be a list"),
        ({"redis": {"maxEcpuPerSecond": 10}}, "valuation.redis.maxEcpuPerSecond"),
        ({"redis": {"nodeType": "cache.r7g.large"}}, "valuation.redis has unknown keys: nodeType"),
        ({"hydration": []}, "valuation.hydration must be an object"),
        ({"taskConcurency": 4}, "valuation has unknown keys: taskConcurency"),
        ("{not json", "not valid JSON"),
    ],
)
def test_a_bad_value_stops_with_the_key_named(context, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(context)


def test_the_handlers_read_the_configured_values(monkeypatch):
    config = load_config({
        "maxTaskRetries": 6, "waitMode": "polling", "metadataHeaders": ["X-Desk"],
        "taskEngineCommand": "/opt/engine/value", "dispatchDryRun": True,
        "hydration": {"dataRoots": ["/var/task/data", "/opt/data"], "envAllowlist": ["DESK"]},
    })
    for name, value in config.settings_environment().items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env()
    assert settings.max_task_retries == 6
    assert settings.wait_mode == "polling"
    assert settings.metadata_headers == ("x-desk",)
    assert settings.task_engine_command == "/opt/engine/value"
    assert settings.dispatch_dry_run is True
    assert settings.hydration_data_roots == ("/var/task/data", "/opt/data")
    assert settings.env_function_allowlist == ("DESK",)


def setting_names(values: dict, prefix: str = "") -> list[str]:
    names = []
    for key, value in values.items():
        names.append(prefix + key)
        if isinstance(value, dict):
            names += setting_names(value, f"{prefix}{key}.")
    return names


def test_deploy_docs_describe_every_setting_of_cdk_json():
    docs = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    missing = [
        name for name in setting_names(CDK_JSON_CONTEXT[CONTEXT_KEY]) if f"`{name}`" not in docs
    ]
    assert missing == []
