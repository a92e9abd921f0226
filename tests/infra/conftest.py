"""Each configuration is synthesized once per session and shared: synthesis is slow."""

from __future__ import annotations

import pytest

from infra_support import Synthesized, synthesize


@pytest.fixture(scope="session")
def standard(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The configuration of cdk.json (Standard workflow, IAM authorisation)."""
    return synthesize(tmp_path_factory.mktemp("standard"))


@pytest.fixture(scope="session")
def alternative(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The other choices: Express, API key authorisation, other numbers, extra buckets."""
    return synthesize(
        tmp_path_factory.mktemp("alternative"),
        workflowType="EXPRESS",
        authMode="apiKey",
        taskConcurrency=7,
        maxTaskRetries=5,
        taskTimeoutSeconds=120,
        apiGatewayCloudWatchRole=False,
        metadataHeaders=["X-Desk", "X-Trader"],
        hydration={"readBuckets": ["market-data-example"]},
    )


@pytest.fixture(params=["standard", "alternative"])
def synthesized(request: pytest.FixtureRequest) -> Synthesized:
    """Each configuration in turn."""
    return request.getfixturevalue(request.param)
