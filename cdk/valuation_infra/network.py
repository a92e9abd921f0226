"""The VPC: isolated subnets only (no NAT, no route out) and the endpoints the handlers call."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

# ElastiCache Serverless needs subnets in at least two Availability Zones.
AVAILABILITY_ZONES = 2


class Network(Construct):
    def __init__(self, scope: Construct, id: str, *, log_retention: logs.RetentionDays):
        super().__init__(scope, id)
        self.vpc = ec2.Vpc(
            self, "Vpc",
            max_azs=AVAILABILITY_ZONES,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                )
            ],
        )
        self.subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                logs.LogGroup(self, "FlowLogs", retention=log_retention)
            ),
        )

        # S3 (documents, uploads, s3:// hydration): a gateway endpoint, free of charge.
        self.vpc.add_gateway_endpoint(
            "S3", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[self.subnets]
        )
        # Every function runs in this group; the endpoints and Redis admit it and nothing else.
        self.functions_security_group = ec2.SecurityGroup(
            self, "FunctionsSecurityGroup",
            vpc=self.vpc,
            description="Valuation Lambda functions",
            allow_all_outbound=True,  # only the endpoints and Redis are reachable from here
        )
        endpoints_security_group = ec2.SecurityGroup(
            self, "EndpointsSecurityGroup",
            vpc=self.vpc,
            description="Interface endpoints: HTTPS from the valuation functions",
            allow_all_outbound=False,
        )
        endpoints_security_group.add_ingress_rule(
            self.functions_security_group, ec2.Port.HTTPS, "HTTPS from the valuation functions"
        )
        # Step Functions for the api function's dispatch, Secrets Manager for the Redis AUTH
        # secret. Lambda delivers its own logs and traces outside the VPC; the Logs and X-Ray
        # endpoints serve handler code that calls those services through the SDK.
        for name, service in {
            "StepFunctions": ec2.InterfaceVpcEndpointAwsService.STEP_FUNCTIONS,
            "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
            "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
            "XRay": ec2.InterfaceVpcEndpointAwsService.XRAY,
        }.items():
            self.vpc.add_interface_endpoint(
                name, service=service, subnets=self.subnets,
                open=False, security_groups=[endpoints_security_group],
            )
