"""The state machine deploys statemachines/valuation.asl.json with the registry's functions."""

from __future__ import annotations

import json

from infra_support import Synthesized, as_list
from valuation.workflow.definition import all_states, load_template, placeholders, render
from valuation.workflow.functions import RECONCILE_FUNCTION, WORKFLOW_FUNCTIONS
from valuation_infra.workflow import distributed_maps


def state_machine(synthesized: Synthesized) -> dict:
    return synthesized.only("AWS::StepFunctions::StateMachine")[1]["Properties"]


def definition(synthesized: Synthesized) -> dict:
    """The definition as deployed, with a stand-in for each substituted ARN."""
    properties = state_machine(synthesized)
    arns = {name: f"arn:{name}" for name in properties["DefinitionSubstitutions"]}
    return json.loads(render(properties["DefinitionString"], {}, arns))


def test_the_definition_is_inline_and_every_placeholder_has_a_substitution(synthesized):
    properties = state_machine(synthesized)
    assert isinstance(properties["DefinitionString"], str)  # from_string, not an S3 asset
    assert placeholders(properties["DefinitionString"]) == set(
        properties["DefinitionSubstitutions"]
    )
    assert "${" not in json.dumps(definition(synthesized))


def test_the_definition_is_the_shared_file_with_the_configured_numbers(synthesized):
    numbers = synthesized.config.definition_values().as_substitutions()
    arns = {spec.placeholder: f"arn:{spec.placeholder}" for spec in WORKFLOW_FUNCTIONS}
    assert definition(synthesized) == json.loads(render(load_template(), numbers, arns))
    states = all_states(definition(synthesized))
    assert states["RunTasks"]["MaxConcurrency"] == synthesized.config.task_concurrency
    assert states["RunTask"]["Retry"][0]["MaxAttempts"] == synthesized.config.max_task_retries


def test_each_function_placeholder_resolves_to_the_function_of_its_handler(synthesized):
    substitutions = state_machine(synthesized)["DefinitionSubstitutions"]
    functions = synthesized.of_type("AWS::Lambda::Function")
    assert set(substitutions) == {spec.placeholder for spec in WORKFLOW_FUNCTIONS}
    for spec in WORKFLOW_FUNCTIONS:
        logical_id, attribute = substitutions[spec.placeholder]["Fn::GetAtt"]
        assert attribute == "Arn"
        assert functions[logical_id]["Properties"]["Handler"] == spec.handler, spec.placeholder


def test_a_standard_workflow_by_default(standard):
    assert state_machine(standard)["StateMachineType"] == "STANDARD"
    assert definition(standard)["TimeoutSeconds"] == 86_400


def test_express_runs_a_groups_tasks_inline_standard_as_a_distributed_map(standard, alternative):
    assert state_machine(alternative)["StateMachineType"] == "EXPRESS"
    assert distributed_maps(definition(standard)) == ["RunTasks"]
    assert distributed_maps(definition(alternative)) == []
    role = state_machine(alternative)["RoleArn"]["Fn::GetAtt"][0]
    assert alternative.statements(role, "states:") == []


def test_the_distributed_map_may_start_stop_and_watch_its_own_child_executions(standard):
    synthesized = standard
    properties = state_machine(synthesized)
    machine = synthesized.only("AWS::StepFunctions::StateMachine")[0]
    role = properties["RoleArn"]["Fn::GetAtt"][0]

    def executions(separator):
        return {"Fn::Join": ["", [
            "arn:", {"Ref": "AWS::Partition"}, ":states:", {"Ref": "AWS::Region"}, ":",
            {"Ref": "AWS::AccountId"}, ":execution:", {"Fn::GetAtt": [machine, "Name"]},
            f"{separator}*",
        ]]}

    granted = {
        tuple(statement["Action"]): sorted(map(json.dumps, as_list(statement["Resource"])))
        for statement in synthesized.statements(role, "states:")
    }
    assert granted == {
        ("states:StartExecution",): [json.dumps({"Ref": machine})],
        ("states:DescribeExecution", "states:StopExecution"): sorted(
            map(json.dumps, [executions(":"), executions("/")])
        ),
    }


def test_executions_are_logged_in_full_and_traced(synthesized):
    properties = state_machine(synthesized)
    logging = properties["LoggingConfiguration"]
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is True
    (destination,) = logging["Destinations"]
    log_group = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    assert synthesized.resources[log_group]["Properties"]["RetentionInDays"] == (
        synthesized.config.log_retention_days
    )
    assert properties["TracingConfiguration"] == {"Enabled": True}


def test_executions_that_end_unseen_go_to_the_reconcile_function(synthesized):
    ((_, rule),) = synthesized.of_type("AWS::Events::Rule").items()
    pattern = rule["Properties"]["EventPattern"]
    machine = synthesized.only("AWS::StepFunctions::StateMachine")[0]
    assert pattern["source"] == ["aws.states"]
    assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
    assert sorted(pattern["detail"]["status"]) == ["ABORTED", "FAILED", "TIMED_OUT"]
    assert pattern["detail"]["stateMachineArn"] == [{"Ref": machine}]
    (target,) = rule["Properties"]["Targets"]
    reconcile = synthesized.function(RECONCILE_FUNCTION.handler)[0]
    assert target["Arn"] == {"Fn::GetAtt": [reconcile, "Arn"]}
