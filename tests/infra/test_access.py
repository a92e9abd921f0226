"""Who may do what: each role holds the grants its code needs, on this stack's resources only."""

from __future__ import annotations

from infra_support import as_list, role_of
from valuation.workflow.functions import API_FUNCTION, WORKFLOW_FUNCTIONS


def state_machine_role(synthesized) -> str:
    properties = synthesized.only("AWS::StepFunctions::StateMachine")[1]["Properties"]
    return properties["RoleArn"]["Fn::GetAtt"][0]


def test_the_state_machine_may_invoke_exactly_its_functions(synthesized):
    role = state_machine_role(synthesized)
    (invoke,) = synthesized.statements(role, "lambda:")
    assert invoke["Action"] == ["lambda:InvokeFunction"]
    assert invoke["Effect"] == "Allow"
    expected = {
        synthesized.function(spec.handler)[0] for spec in WORKFLOW_FUNCTIONS
    }
    granted = {resource["Fn::GetAtt"][0] for resource in as_list(invoke["Resource"])}
    assert granted == expected
    assert all(resource["Fn::GetAtt"][1] == "Arn" for resource in as_list(invoke["Resource"]))
    assert "ManagedPolicyArns" not in synthesized.resources[role]["Properties"]


def test_the_api_function_may_start_and_describe_its_own_executions_only(synthesized):
    machine = synthesized.only("AWS::StepFunctions::StateMachine")[0]
    role = role_of(synthesized.function(API_FUNCTION.handler)[1])
    granted = {}
    for statement in synthesized.statements(role, "states:"):
        assert statement["Effect"] == "Allow"
        for action in statement["Action"]:
            granted[action] = statement["Resource"]
    executions = {"Fn::Join": ["", [
        "arn:", {"Ref": "AWS::Partition"}, ":states:", {"Ref": "AWS::Region"}, ":",
        {"Ref": "AWS::AccountId"}, ":execution:", {"Fn::GetAtt": [machine, "Name"]}, ":*",
    ]]}
    assert granted == {
        "states:StartExecution": {"Ref": machine},
        "states:DescribeStateMachine": {"Ref": machine},
        "states:DescribeExecution": executions,
    }


def test_workflow_functions_cannot_drive_step_functions(synthesized):
    for spec in WORKFLOW_FUNCTIONS:
        role = role_of(synthesized.function(spec.handler)[1])
        assert synthesized.statements(role, "states:") == []


def test_every_function_reads_the_auth_secret_and_uses_the_document_bucket(synthesized):
    secret = synthesized.only("AWS::SecretsManager::Secret")[0]
    bucket = synthesized.output("DocumentBucketName")["Ref"]
    for spec in (*WORKFLOW_FUNCTIONS, API_FUNCTION):
        role = role_of(synthesized.function(spec.handler)[1])
        (read_secret,) = synthesized.statements(role, "secretsmanager:")
        assert read_secret["Resource"] == {"Ref": secret}
        assert set(read_secret["Action"]) == {
            "secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"
        }
        s3 = {
            tuple(statement["Action"]): statement["Resource"]
            for statement in synthesized.statements(role, "s3:")
        }
        bucket_arn = {"Fn::GetAtt": [bucket, "Arn"]}
        objects = {"Fn::Join": ["", [bucket_arn, "/*"]]}
        expected = {("s3:GetObject", "s3:PutObject"): objects, ("s3:ListBucket",): bucket_arn}
        if spec.name == "Hydrate" and synthesized.config.hydration.read_buckets:
            expected[("s3:GetObject",)] = {"Fn::Join": ["", [
                "arn:", {"Ref": "AWS::Partition"}, ":s3:::market-data-example/*"
            ]]}
        assert s3 == expected, spec.name
