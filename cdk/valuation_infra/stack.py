"""The service in one stack: network, data, functions, workflow, API, and what operators need."""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Aws, CfnOutput, Fn, Stack, Validations
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from .api import Api
from .config import CONTEXT_KEY, ServiceConfig, load_config
from .data import Cache, DocumentBucket
from .functions import Functions
from .network import Network
from .workflow import Workflow

STACK_NAME = "Valuation"


class ValuationStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: ServiceConfig):
        super().__init__(
            scope, id, description="Valuation orchestration service (API, workflow, Redis)"
        )
        log_retention = config.log_retention

        network = Network(self, "Network", log_retention=log_retention)
        cache = Cache(self, "Cache", network=network, config=config.redis)
        documents = DocumentBucket(
            self, "Documents",
            retention_days=config.document_retention_days,
            log_retention_days=config.log_retention_days,
        )
        functions = Functions(
            self, "Functions",
            network=network,
            environment={
                **config.settings_environment(),
                "REDIS_URL": cache.url,
                "REDIS_CLUSTER": "true",  # ElastiCache Serverless is always a cluster
                "REDIS_AUTH_SECRET_ARN": cache.auth_secret.secret_arn,
                "DOCUMENT_BUCKET": documents.bucket.bucket_name,
            },
            log_level=config.log_level,
            log_retention=log_retention,
        )
        for function in functions.all:
            cache.auth_secret.grant_read(function)
            documents.grant_read_write(function)
        self._grant_hydration_buckets(functions.workflow["Hydrate"], config.hydration.read_buckets)

        # Only the api function knows the state machine; the workflow functions must not (the
        # state machine already depends on them).
        workflow = Workflow(
            self, "Workflow",
            config=config, functions=functions.workflow, log_retention=log_retention,
        )
        state_machine = workflow.state_machine
        functions.api.add_environment("STATE_MACHINE_ARN", state_machine.state_machine_arn)
        state_machine.grant_start_execution(functions.api)
        state_machine.grant(functions.api, "states:DescribeStateMachine")
        iam.Grant.add_to_principal(
            grantee=functions.api,
            actions=["states:DescribeExecution"],
            resource_arns=[workflow.executions_arn()],
        )
        Validations.of(functions.api).acknowledge(Acknowledgment(
            id=workflow.executions_finding(),
            reason="Executions are named after request ids; the grant covers the executions "
            "of this state machine only.",
        ))

        # What no Catch sees (a timeout, an abort, a RecordFailure that failed) still ends the
        # request: Step Functions' status-change events drive the reconcile function.
        events.Rule(
            self, "ExecutionEnded",
            description="Failed, timed-out and aborted executions of the valuation workflow",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={
                    "status": ["FAILED", "TIMED_OUT", "ABORTED"],
                    "stateMachineArn": [state_machine.state_machine_arn],
                },
            ),
            targets=[targets.LambdaFunction(functions.reconcile, retry_attempts=8)],
        )

        api = Api(self, "Api", config=config, handler=functions.api, log_retention=log_retention)
        self._outputs(api, state_machine.state_machine_arn, documents, cache)

    def _grant_hydration_buckets(
        self, hydrate: lambda_.IFunction, buckets: tuple[str, ...]
    ) -> None:
        """`h:href="s3://..."` may read these buckets (besides the document bucket)."""
        if not buckets:
            return
        iam.Grant.add_to_principal(
            grantee=hydrate,
            actions=["s3:GetObject"],
            resource_arns=[f"arn:{Aws.PARTITION}:s3:::{bucket}/*" for bucket in buckets],
        )
        for bucket in buckets:
            Validations.of(hydrate).acknowledge(Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::{bucket}/*]",
                reason="Hydration reads any document of the buckets in hydration.readBuckets.",
            ))

    def _outputs(
        self, api: Api, state_machine_arn: str, documents: DocumentBucket, cache: Cache
    ) -> None:
        console = f"https://{Aws.REGION}.console.aws.amazon.com"
        rest_api_id = api.rest_api.rest_api_id
        CfnOutput(self, "ApiUrl", value=api.rest_api.url, description="The API's base URL")
        CfnOutput(
            self, "ApiExecuteArn",
            value=api.rest_api.arn_for_execute_api(),
            description="Resource for the execute-api:Invoke permission of callers (IAM auth)",
        )
        CfnOutput(self, "StateMachineArn", value=state_machine_arn)
        CfnOutput(
            self, "StateMachineConsoleUrl",
            value=Fn.join("", [
                console, "/states/home?region=", Aws.REGION,
                "#/statemachines/view/", state_machine_arn,
            ]),
            description="The state machine and its executions in the AWS console",
        )
        CfnOutput(
            self, "ApiConsoleUrl",
            value=Fn.join("", [
                console, "/apigateway/main/apis/", rest_api_id,
                "/resources?api=", rest_api_id, "&region=", Aws.REGION,
            ]),
            description="The REST API in the AWS console",
        )
        CfnOutput(self, "DocumentBucketName", value=documents.bucket.bucket_name)
        CfnOutput(
            self, "RedisAuthSecretArn", value=cache.auth_secret.secret_arn,
            description="The Valkey password (rotation: docs/deploy.md)",
        )
        CfnOutput(self, "RedisUserId", value=cache.user_id, description="The Valkey user")
        if api.api_key_id:
            CfnOutput(
                self, "ApiKeyId", value=api.api_key_id,
                description="aws apigateway get-api-key --include-value --api-key <id>",
            )


def add_service(app: App) -> ValuationStack:
    """The stack, configured from the app's context and checked by cdk-nag's AWS Solutions pack."""
    stack = ValuationStack(
        app, STACK_NAME, config=load_config(app.node.try_get_context(CONTEXT_KEY))
    )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return stack
