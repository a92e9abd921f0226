"""The functions: the registry's handlers, sizes and timeouts, from one asset, configured by the
environment variables that `valuation.settings` reads."""

from __future__ import annotations

import pytest

from infra_support import Synthesized
from valuation.settings import Settings
from valuation.workflow.functions import ALL_FUNCTIONS, API_FUNCTION, WORKFLOW_FUNCTIONS


def test_one_function_per_registry_entry(synthesized):
    functions = synthesized.of_type("AWS::Lambda::Function").values()
    assert sorted(f["Properties"]["Handler"] for f in functions) == sorted(
        spec.handler for spec in ALL_FUNCTIONS
    )


@pytest.mark.parametrize("spec", ALL_FUNCTIONS, ids=lambda spec: spec.name)
def test_each_function_has_its_own_size_on_arm64_python(standard, spec):
    properties = standard.function(spec.handler)[1]["Properties"]
    assert properties["MemorySize"] == spec.memory_mb
    assert properties["Timeout"] == spec.timeout_seconds
    assert properties["Architectures"] == ["arm64"]
    version = tuple(int(part) for part in properties["Runtime"].removeprefix("python").split("."))
    assert version >= (3, 12)
    assert properties["TracingConfig"] == {"Mode": "Active"}
    assert len(properties["VpcConfig"]["SubnetIds"]) >= 2
    log_group = properties["LoggingConfig"]["LogGroup"]["Ref"]
    assert standard.resources[log_group]["Properties"]["RetentionInDays"] == 30


def test_every_function_runs_the_one_code_asset(standard):
    codes = {
        f["Properties"]["Code"]["S3Key"] for f in standard.of_type("AWS::Lambda::Function").values()
    }
    assert len(codes) == 1


def environment(synthesized: Synthesized, handler: str) -> dict:
    return synthesized.function(handler)[1]["Properties"]["Environment"]["Variables"]


def test_every_function_gets_the_configured_settings_and_the_infrastructure(synthesized):
    secret = synthesized.only("AWS::SecretsManager::Secret")[0]
    cache = synthesized.only("AWS::ElastiCache::ServerlessCache")[0]
    bucket = synthesized.output("DocumentBucketName")
    for spec in ALL_FUNCTIONS:
        variables = environment(synthesized, spec.handler)
        assert variables.items() >= synthesized.config.settings_environment().items()
        assert variables["REDIS_URL"] == {"Fn::Join": ["", [
            "rediss://",
            {"Fn::GetAtt": [cache, "Endpoint.Address"]}, ":",
            {"Fn::GetAtt": [cache, "Endpoint.Port"]},
        ]]}
        assert variables["REDIS_CLUSTER"] == "true"
        assert variables["REDIS_AUTH_SECRET_ARN"] == {"Ref": secret}
        assert variables["DOCUMENT_BUCKET"] == bucket
        assert variables["POWERTOOLS_SERVICE_NAME"] == "valuation"
        assert variables["POWERTOOLS_LOG_LEVEL"] == synthesized.config.log_level


def test_only_the_api_function_knows_the_state_machine(synthesized):
    machine = synthesized.only("AWS::StepFunctions::StateMachine")[0]
    assert environment(synthesized, API_FUNCTION.handler)["STATE_MACHINE_ARN"] == {"Ref": machine}
    for spec in WORKFLOW_FUNCTIONS:
        assert "STATE_MACHINE_ARN" not in environment(synthesized, spec.handler)


def test_the_settings_module_reads_what_the_app_sets(alternative, monkeypatch):
    """The deployed variables, tokens replaced by sample values, as the handlers see them."""
    samples = {
        "REDIS_URL": "rediss://cache.example:6379",
        "REDIS_AUTH_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:x",
        "DOCUMENT_BUCKET": "documents",
        "STATE_MACHINE_ARN": "arn:aws:states:eu-west-1:1:stateMachine:x",
    }
    for name, value in environment(alternative, API_FUNCTION.handler).items():
        monkeypatch.setenv(name, samples.get(name, value))
    settings = Settings.from_env()
    config = alternative.config
    assert settings.redis_cluster is True
    assert settings.redis_auth_secret_arn == samples["REDIS_AUTH_SECRET_ARN"]
    assert settings.task_concurrency == config.task_concurrency == 7
    assert settings.max_task_retries == config.max_task_retries
    assert settings.task_timeout_seconds == config.task_timeout_seconds
    assert settings.sync_wait_timeout_ms == config.sync_wait_timeout_ms == 28_000
    assert settings.request_ttl_seconds == config.request_ttl_seconds
    assert settings.tombstone_ttl_seconds == config.tombstone_ttl_seconds
    assert settings.idempotency_ttl_seconds == config.idempotency_ttl_seconds
    assert settings.payload_max_bytes == config.payload_max_bytes
    assert settings.upload_max_bytes == config.upload_max_bytes
    assert settings.hydration_max_passes == config.hydration.max_passes
    assert settings.metadata_headers == ("x-desk", "x-trader")
    assert settings.wait_mode == config.wait_mode
    assert settings.dispatch_dry_run is False
