"""Redis (ElastiCache Serverless for Valkey), the document bucket and the VPC around them."""

from __future__ import annotations

from valuation.workflow.functions import API_FUNCTION


def test_redis_is_serverless_valkey_sized_from_context(standard):
    properties = standard.only("AWS::ElastiCache::ServerlessCache")[1]["Properties"]
    assert properties["Engine"] == "valkey"
    assert properties["MajorEngineVersion"] == standard.config.redis.major_engine_version
    assert properties["CacheUsageLimits"] == {
        "DataStorage": {"Maximum": standard.config.redis.max_data_storage_gb, "Unit": "GB"},
        "ECPUPerSecond": {"Maximum": standard.config.redis.max_ecpu_per_second},
    }
    # Serverless spreads over the subnets' zones and fails over on its own.
    assert len(properties["SubnetIds"]) >= 2


def test_redis_demands_tls_and_auth_from_a_generated_secret(standard):
    cache = standard.only("AWS::ElastiCache::ServerlessCache")[1]["Properties"]
    group_id, group = standard.only("AWS::ElastiCache::UserGroup")
    user_id, user = standard.only("AWS::ElastiCache::User")
    secret_id, secret = standard.only("AWS::SecretsManager::Secret")

    assert cache["UserGroupId"] == {"Ref": group_id}  # no access without a user of the group
    assert group["Properties"]["UserIds"] == [{"Ref": user_id}]
    user = user["Properties"]
    assert user["UserName"] == "default"  # AUTH <password> logs in as this user
    assert user["AuthenticationMode"] == {"Type": "password", "Passwords": [{"Fn::Join": ["", [
        "{{resolve:secretsmanager:", {"Ref": secret_id}, ":SecretString:::}}"
    ]]}]}
    assert "GenerateSecretString" in secret["Properties"]
    assert "SecretString" not in secret["Properties"]
    # Serverless has no plaintext port; the functions are told to use TLS.
    url = standard.function(API_FUNCTION.handler)[1]["Properties"]["Environment"]["Variables"][
        "REDIS_URL"
    ]
    assert url["Fn::Join"][1][0] == "rediss://"


def test_only_the_functions_reach_redis(standard):
    cache = standard.only("AWS::ElastiCache::ServerlessCache")[1]["Properties"]
    (group,) = cache["SecurityGroupIds"]
    group_id = group["Fn::GetAtt"][0]
    (functions_group,) = standard.function(API_FUNCTION.handler)[1]["Properties"]["VpcConfig"][
        "SecurityGroupIds"
    ]
    assert all(
        f["Properties"]["VpcConfig"]["SecurityGroupIds"] == [functions_group]
        for f in standard.of_type("AWS::Lambda::Function").values()
    )
    rules = [
        rule["Properties"] for rule in standard.of_type("AWS::EC2::SecurityGroupIngress").values()
        if rule["Properties"]["GroupId"] == {"Fn::GetAtt": [group_id, "GroupId"]}
    ]
    assert rules == [{
        "Description": "Valkey from the valuation functions",
        "FromPort": 6379, "ToPort": 6380, "IpProtocol": "tcp",
        "GroupId": {"Fn::GetAtt": [group_id, "GroupId"]},
        "SourceSecurityGroupId": functions_group,
    }]
    assert "SecurityGroupIngress" not in standard.resources[group_id]["Properties"]


def test_the_document_bucket_is_private_encrypted_tls_only_logged_and_expiring(standard):
    bucket_id = standard.output("DocumentBucketName")["Ref"]
    bucket = standard.resources[bucket_id]["Properties"]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ] == {"SSEAlgorithm": "AES256"}
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True,
        "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }
    assert "DestinationBucketName" in bucket["LoggingConfiguration"]
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == standard.config.document_retention_days
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    policies = [
        p["Properties"] for p in standard.of_type("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    (policy,) = policies
    assert any(
        statement["Effect"] == "Deny"
        and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for statement in policy["PolicyDocument"]["Statement"]
    )


def test_the_vpc_is_isolated_with_the_endpoints_the_handlers_call(standard):
    assert standard.of_type("AWS::EC2::NatGateway") == {}
    assert standard.of_type("AWS::EC2::InternetGateway") == {}
    subnets = standard.of_type("AWS::EC2::Subnet").values()
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets)
    endpoints = {
        # com.amazonaws.<region>.<service>
        e["Properties"]["ServiceName"]["Fn::Join"][1][-1].lstrip("."):
        e["Properties"]["VpcEndpointType"]
        for e in standard.of_type("AWS::EC2::VPCEndpoint").values()
    }
    assert endpoints == {
        "s3": "Gateway", "states": "Interface", "secretsmanager": "Interface",
        "logs": "Interface", "xray": "Interface",
    }
    assert len(standard.of_type("AWS::EC2::FlowLog")) == 1
