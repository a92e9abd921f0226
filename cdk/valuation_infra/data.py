"""Where requests live: ElastiCache Serverless for Valkey, and S3 for uploads and big documents."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, Fn, Names, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .config import RedisConfig
from .network import Network

ENGINE = "valkey"
# 6379 is the endpoint; 6380 the reader endpoint (reads from replicas).
PORTS = ec2.Port.tcp_range(6379, 6380)
# The cache serves this service alone: every key and channel, but no administrative commands
# (FLUSHALL, KEYS, CONFIG, ...), which no handler sends.
ACCESS_STRING = "on ~* &* +@all -@dangerous"


class Cache(Construct):
    """ElastiCache Serverless for Valkey.

    Serverless always encrypts in transit (TLS only) and at rest, and replicates across the
    subnets' Availability Zones with automatic failover. AUTH is a password user from Secrets
    Manager. Its cluster mode is what the keys' hash tags (DESIGN section 7) are made for.
    """

    def __init__(self, scope: Construct, id: str, *, network: Network, config: RedisConfig):
        super().__init__(scope, id)
        name = Names.unique_resource_name(self, max_length=32, separator="-").lower()

        self.auth_secret = secretsmanager.Secret(
            self, "AuthSecret",
            description="Valkey AUTH password of the valuation service's functions",
            # The secret string is the password itself: the handlers pass it to AUTH as it is.
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True, include_space=False
            ),
        )
        Validations.of(self.auth_secret).acknowledge(Acknowledgment(
            id="AwsSolutions-SMG4",
            reason="Rotation must change the ElastiCache user's password in step; until a "
            "rotation function does that, rotate by hand (docs/deploy.md): a user holds two "
            "passwords, so the old one keeps working while the functions pick up the new one.",
        ))

        # Named "default" so that AUTH with a password alone (what the handlers send) logs in.
        user = elasticache.CfnUser(
            self, "User",
            engine=ENGINE,
            user_id=f"{name}-app",
            user_name="default",
            access_string=ACCESS_STRING,
            authentication_mode={
                "Type": "password",
                # A dynamic reference: CloudFormation resolves it; the template never holds it.
                "Passwords": [self.auth_secret.secret_value.unsafe_unwrap()],
            },
        )
        self.user_id = user.ref
        user_group = elasticache.CfnUserGroup(
            self, "UserGroup", engine=ENGINE, user_group_id=f"{name}-users", user_ids=[self.user_id]
        )

        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup",
            vpc=network.vpc,
            description="Valkey: reachable from the valuation functions only",
            allow_all_outbound=False,
        )
        self.security_group.add_ingress_rule(
            network.functions_security_group, PORTS, "Valkey from the valuation functions"
        )

        self.cache = elasticache.CfnServerlessCache(
            self, "Cache",
            serverless_cache_name=name,
            description="Valuation request state",
            engine=ENGINE,
            major_engine_version=config.major_engine_version,
            cache_usage_limits=elasticache.CfnServerlessCache.CacheUsageLimitsProperty(
                data_storage=elasticache.CfnServerlessCache.DataStorageProperty(
                    unit="GB", maximum=config.max_data_storage_gb
                ),
                ecpu_per_second=elasticache.CfnServerlessCache.ECPUPerSecondProperty(
                    maximum=config.max_ecpu_per_second
                ),
            ),
            security_group_ids=[self.security_group.security_group_id],
            subnet_ids=network.vpc.select_subnets(
                subnet_type=ec2.SubnetType.PRIVATE_ISOLATED
            ).subnet_ids,
            user_group_id=user_group.ref,
        )
        self.url = Fn.join(
            "", ["rediss://", self.cache.attr_endpoint_address, ":", self.cache.attr_endpoint_port]
        )


class DocumentBucket(Construct):
    """Uploads and large documents (claim check): private, TLS only, expiring, access-logged."""

    def __init__(
        self, scope: Construct, id: str, *, retention_days: int, log_retention_days: int
    ):
        super().__init__(scope, id)
        access_logs = s3.Bucket(
            self, "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # the only encryption log delivery supports
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(log_retention_days))],
        )
        Validations.of(access_logs).acknowledge(Acknowledgment(
            id="AwsSolutions-S1",
            reason="This bucket receives the document bucket's access logs; logging its own "
            "access would log the log deliveries.",
        ))
        self.bucket = s3.Bucket(
            self, "Bucket",
            # SSE-S3: presigned uploads need no KMS permissions on the client's side.
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="documents/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=Duration.days(retention_days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
        )

    def grant_read_write(self, function: lambda_.IFunction) -> None:
        """Get and put objects (an upload URL is signed with the api function's role), and list
        the bucket so that a missing key answers 404 rather than 403."""
        iam.Grant.add_to_principal(
            grantee=function,
            actions=["s3:GetObject", "s3:PutObject"],
            resource_arns=[self.bucket.arn_for_objects("*")],
        )
        iam.Grant.add_to_principal(
            grantee=function, actions=["s3:ListBucket"], resource_arns=[self.bucket.bucket_arn]
        )
        bucket = Stack.of(self).get_logical_id(self.bucket.node.default_child)
        Validations.of(function).acknowledge(Acknowledgment(
            id=f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/*]",
            reason="Object keys are request and upload ids, unknown in advance; the grant is "
            "GetObject and PutObject on the service's own document bucket.",
        ))
