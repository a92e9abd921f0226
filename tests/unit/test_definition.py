"""The state machine definition: its shape, and the loader CDK and the local stack share."""

from __future__ import annotations

import json

import pytest

from valuation.settings import Settings
from valuation.workflow.definition import (
    TASK_STATE_TIMEOUT_MARGIN_SECONDS,
    DefinitionValues,
    all_states,
    load_template,
    placeholders,
    render,
)
from valuation.workflow.functions import WORKFLOW_FUNCTIONS

LAMBDA_SERVICE_ERRORS = {
    "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}


@pytest.fixture(scope="module")
def template() -> str:
    return load_template()


def rendered(template: str) -> dict:
    numbers = DefinitionValues(7, 4, 90, 2, 3600).as_substitutions()
    arns = {spec.placeholder: f"arn:fn:{spec.name}" for spec in WORKFLOW_FUNCTIONS}
    return json.loads(render(template, numbers, arns))


def test_every_placeholder_is_a_function_arn_or_a_rendered_value(template):
    numbers = set(DefinitionValues(1, 1, 1, 1, 1).as_substitutions())
    functions = {spec.placeholder for spec in WORKFLOW_FUNCTIONS}
    assert placeholders(template) == numbers | functions


def test_rendering_fills_numbers_as_numbers_and_arns_as_strings(template):
    machine = rendered(template)
    states = all_states(machine)
    assert "${" not in json.dumps(machine)
    assert machine["TimeoutSeconds"] == 3600
    assert states["ProcessGroups"]["MaxConcurrency"] == 1
    assert states["RunTasks"]["MaxConcurrency"] == 7
    assert states["RunTask"]["TimeoutSeconds"] == 90 + TASK_STATE_TIMEOUT_MARGIN_SECONDS
    transient = states["RunTask"]["Retry"][0]
    assert transient["MaxAttempts"] == 4 and transient["IntervalSeconds"] == 2
    for spec in WORKFLOW_FUNCTIONS:
        assert states[spec.name]["Resource"] == f"arn:fn:{spec.name}"


@pytest.mark.parametrize(
    "workflow_type,processor",
    [("STANDARD", {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}),
     ("EXPRESS", {"Mode": "INLINE"})],
)
def test_a_groups_tasks_run_as_child_executions_unless_express(template, workflow_type, processor):
    values = DefinitionValues(1, 1, 1, 1, 1, workflow_type=workflow_type).as_substitutions()
    machine = json.loads(render(template, values))
    assert all_states(machine)["RunTasks"]["ItemProcessor"]["ProcessorConfig"] == processor
    assert all_states(machine)["ProcessGroups"]["ItemProcessor"]["ProcessorConfig"] == {
        "Mode": "INLINE"}


def test_arns_can_be_left_for_cloudformation(template):
    partly = render(template, DefinitionValues(1, 1, 1, 1, 1).as_substitutions())
    assert placeholders(partly) == {spec.placeholder for spec in WORKFLOW_FUNCTIONS}


def test_shape_follows_the_design(template):
    machine = rendered(template)
    states = all_states(machine)
    assert machine["StartAt"] == "Hydrate"
    assert states["Hydrate"]["Next"] == "ProcessGroups"
    assert states["ProcessGroups"]["ItemProcessor"]["StartAt"] == "PrepareGroup"
    assert states["PrepareGroup"]["Next"] == "RunTasks"
    assert states["RunTasks"]["ItemProcessor"]["StartAt"] == "RunTask"
    assert states["RunTasks"]["Next"] == "CompleteGroup"
    assert states["ProcessGroups"]["Next"] == "Assemble"
    assert states["RecordFailure"]["Next"] == "Failed"
    assert states["Failed"]["Type"] == "Fail"


def test_run_task_retries_transient_errors_only_with_backoff_and_jitter(template):
    retriers = all_states(rendered(template))["RunTask"]["Retry"]
    assert retriers[0]["ErrorEquals"] == ["TransientTaskError"]
    assert retriers[0]["BackoffRate"] > 1 and retriers[0]["JitterStrategy"] == "FULL"
    assert set(retriers[1]["ErrorEquals"]) == LAMBDA_SERVICE_ERRORS
    named = {error for retrier in retriers for error in retrier["ErrorEquals"]}
    assert "States.ALL" not in named and "PermanentTaskError" not in named


def test_every_catch_leads_to_record_failure(template):
    catches = [c for s in all_states(rendered(template)).values() for c in s.get("Catch", [])]
    assert catches and {c["Next"] for c in catches} == {"RecordFailure"}
    assert all(c["ErrorEquals"] == ["States.ALL"] for c in catches)


def test_jsonpath_only_and_payloads_carry_ids(template):
    assert "JSONata" not in template and '"Assign"' not in template and "?(" not in template
    for state in all_states(rendered(template)).values():
        for key, value in state.get("Parameters", {}).items():
            assert key.endswith(".$"), f"{key} is not a reference"
            assert value.startswith("$"), value


def test_numbers_come_from_settings():
    settings = Settings.from_env()
    numbers = DefinitionValues.from_settings(settings)
    assert numbers.task_concurrency == settings.task_concurrency
    assert numbers.max_task_retries == settings.max_task_retries
    assert numbers.task_timeout_seconds == settings.task_timeout_seconds
