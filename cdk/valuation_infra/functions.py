"""The Lambda functions: one per entry of the function registry, all from one code asset."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from valuation.workflow.functions import (
    API_FUNCTION,
    RECONCILE_FUNCTION,
    WORKFLOW_FUNCTIONS,
    FunctionSpec,
)

from .bundling import ARCHITECTURE, RUNTIME, function_code
from .network import Network

SERVICE_NAME = "valuation"


class Functions(Construct):
    """`workflow` maps each state's name (the registry's) to its function; `api` serves HTTP;
    `reconcile` ends requests whose executions ended where no Catch could see it."""

    def __init__(
        self, scope: Construct, id: str, *,
        network: Network,
        environment: Mapping[str, str],
        log_level: str,
        log_retention: logs.RetentionDays,
    ):
        super().__init__(scope, id)
        self._network = network
        self._code = function_code()  # one asset, bound to every function
        self._environment = {
            **environment,
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "POWERTOOLS_METRICS_NAMESPACE": "Valuation",
            "POWERTOOLS_LOG_LEVEL": log_level,
        }
        self._log_retention = log_retention
        self.workflow = {spec.name: self._function(spec) for spec in WORKFLOW_FUNCTIONS}
        self.api = self._function(API_FUNCTION)
        self.reconcile = self._function(RECONCILE_FUNCTION)

    @property
    def all(self) -> list[lambda_.Function]:
        return [*self.workflow.values(), self.api, self.reconcile]

    def _function(self, spec: FunctionSpec) -> lambda_.Function:
        function = lambda_.Function(
            self, spec.name,
            description=f"Valuation {spec.name} ({spec.handler})",
            code=self._code,
            handler=spec.handler,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            environment=self._environment,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=logs.LogGroup(self, f"{spec.name}Logs", retention=self._log_retention),
            vpc=self._network.vpc,
            vpc_subnets=self._network.subnets,
            security_groups=[self._network.functions_security_group],
        )
        for policy in ("AWSLambdaBasicExecutionRole", "AWSLambdaVPCAccessExecutionRole"):
            Validations.of(function).acknowledge(Acknowledgment(
                id=f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                f"service-role/{policy}]",
                reason="AWS's managed policies for a VPC function: writing its own logs and "
                "managing its network interfaces, nothing else.",
            ))
        Validations.of(function).acknowledge(Acknowledgment(
            id="AwsSolutions-IAM5[Resource::*]",
            reason="X-Ray's PutTraceSegments and PutTelemetryRecords take no resource.",
        ))
        return function
