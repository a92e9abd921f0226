"""The state machine: `statemachines/valuation.asl.json`, the file the local stack runs.

The shared loader renders the numbers; CloudFormation substitutes the function ARNs. The
definition stays inline in the template (`from_string`, not `from_file`), so it can be read there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aws_cdk import Acknowledgment, ArnFormat, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from valuation.workflow.definition import all_states, load_template, render
from valuation.workflow.functions import by_name

from .config import ServiceConfig


def distributed_maps(machine: Mapping[str, Any]) -> list[str]:
    """The Map states, nested ones included, that run their items as child executions."""
    return [
        name for name, state in all_states(machine).items()
        if state.get("ItemProcessor", {}).get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED"
    ]


class Workflow(Construct):
    def __init__(
        self, scope: Construct, id: str, *,
        config: ServiceConfig,
        functions: Mapping[str, lambda_.IFunction],
        log_retention: logs.RetentionDays,
    ):
        super().__init__(scope, id)
        definition = render(load_template(), config.definition_values().as_substitutions())
        child_execution_maps = distributed_maps(json.loads(definition))

        self.state_machine = sfn.StateMachine(
            self, "StateMachine",
            definition_body=sfn.DefinitionBody.from_string(definition),
            definition_substitutions={
                by_name(name).placeholder: function.function_arn
                for name, function in functions.items()
            },
            state_machine_type=sfn.StateMachineType[config.workflow_type],
            tracing_enabled=True,
            # Every event, for both types: Express keeps no execution history, and states carry
            # ids only (never XML), so logging their data is cheap and safe.
            logs=sfn.LogOptions(
                destination=logs.LogGroup(self, "Logs", retention=log_retention),
                level=sfn.LogLevel.ALL,
                include_execution_data=True,
            ),
        )
        # A definition from a string gets no grants from CDK: exactly these functions, by ARN.
        self.state_machine.add_to_role_policy(iam.PolicyStatement(
            actions=["lambda:InvokeFunction"],
            resources=[function.function_arn for function in functions.values()],
        ))
        Validations.of(self.state_machine).acknowledge(Acknowledgment(
            id="AwsSolutions-IAM5[Resource::*]",
            reason="X-Ray tracing and CloudWatch Logs delivery actions take no resource.",
        ))
        if child_execution_maps:
            self._grant_child_executions()

    def executions_arn(self, separator: str = ":") -> str:
        """This state machine's executions (`:`), or a Distributed Map's child executions (`/`)."""
        return Stack.of(self).format_arn(
            service="states",
            resource="execution",
            resource_name=f"{self.state_machine.state_machine_name}{separator}*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )

    def executions_finding(self, separator: str = ":") -> str:
        """cdk-nag's finding for a grant on `executions_arn(separator)`, to acknowledge it."""
        name = Stack.of(self).get_logical_id(self.state_machine.node.default_child)
        return (
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:"
            f"<AWS::AccountId>:execution:<{name}.Name>{separator}*]"
        )

    def _grant_child_executions(self) -> None:
        """A Distributed Map starts executions of this state machine, then watches and stops
        them. In a policy of its own: the state machine waits for its role's default policy,
        which therefore cannot name the state machine."""
        policy = iam.Policy(
            self, "ChildExecutionsPolicy",
            roles=[self.state_machine.role],
            statements=[
                iam.PolicyStatement(
                    actions=["states:StartExecution"],
                    resources=[self.state_machine.state_machine_arn],
                ),
                iam.PolicyStatement(
                    actions=["states:DescribeExecution", "states:StopExecution"],
                    resources=[self.executions_arn(":"), self.executions_arn("/")],
                ),
            ],
        )
        for separator in (":", "/"):
            Validations.of(policy).acknowledge(Acknowledgment(
                id=self.executions_finding(separator),
                reason="Child executions get generated names; the grant covers the executions "
                "of this state machine only.",
            ))
