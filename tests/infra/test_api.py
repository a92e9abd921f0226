"""The REST API: everything proxied to the api function, authorised, throttled and logged."""

from __future__ import annotations

from valuation.workflow.functions import API_FUNCTION


def methods(synthesized) -> list[dict]:
    return [m["Properties"] for m in synthesized.of_type("AWS::ApiGateway::Method").values()]


def test_every_path_and_method_is_proxied_to_the_api_function(synthesized):
    """`/` and `/{proxy+}` with ANY: POST /valuation/uploads and every other route of the
    function, which also answers unknown paths with problem details."""
    (resource,) = synthesized.of_type("AWS::ApiGateway::Resource").values()
    assert resource["Properties"]["PathPart"] == "{proxy+}"
    api_function = synthesized.function(API_FUNCTION.handler)[0]
    assert len(methods(synthesized)) == 2
    for method in methods(synthesized):
        assert method["HttpMethod"] == "ANY"
        integration = method["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        assert {"Fn::GetAtt": [api_function, "Arn"]} in integration["Uri"]["Fn::Join"][1]


def test_iam_authorisation_is_the_default(standard):
    assert all(m["AuthorizationType"] == "AWS_IAM" for m in methods(standard))
    assert standard.of_type("AWS::ApiGateway::ApiKey") == {}


def test_context_can_choose_api_keys_instead(alternative):
    assert all(
        m["AuthorizationType"] == "NONE" and m["ApiKeyRequired"] is True
        for m in methods(alternative)
    )
    (plan,) = alternative.of_type("AWS::ApiGateway::UsagePlan").values()
    assert plan["Properties"]["Throttle"] == {
        "RateLimit": alternative.config.throttle_rate_limit,
        "BurstLimit": alternative.config.throttle_burst_limit,
    }
    key = alternative.only("AWS::ApiGateway::ApiKey")[0]
    (usage_plan_key,) = alternative.of_type("AWS::ApiGateway::UsagePlanKey").values()
    assert usage_plan_key["Properties"]["KeyId"] == {"Ref": key}
    assert alternative.output("ApiKeyId") == {"Ref": key}


def test_the_stage_is_throttled_and_writes_access_logs(synthesized):
    stage = synthesized.only("AWS::ApiGateway::Stage")[1]["Properties"]
    (settings,) = stage["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == synthesized.config.throttle_rate_limit
    assert settings["ThrottlingBurstLimit"] == synthesized.config.throttle_burst_limit
    assert settings["DataTraceEnabled"] is False  # request bodies never reach the logs
    log_group = stage["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"][0]
    assert synthesized.resources[log_group]["Type"] == "AWS::Logs::LogGroup"
    assert "$context.requestId" in stage["AccessLogSetting"]["Format"]


def test_xml_bodies_arrive_as_text(synthesized):
    (api,) = synthesized.of_type("AWS::ApiGateway::RestApi").values()
    binary = api["Properties"].get("BinaryMediaTypes", [])
    assert not {"application/xml", "text/xml", "*/*"} & set(binary)


def test_the_outputs_lead_operators_to_the_api_and_the_workflow(synthesized):
    outputs = synthesized.template.to_json()["Outputs"]
    assert {
        "ApiUrl", "ApiExecuteArn", "StateMachineArn", "StateMachineConsoleUrl", "ApiConsoleUrl",
        "DocumentBucketName",
    } <= set(outputs)
    machine = synthesized.only("AWS::StepFunctions::StateMachine")[0]
    assert synthesized.output("StateMachineArn") == {"Ref": machine}
    assert {"Ref": machine} in synthesized.output("StateMachineConsoleUrl")["Fn::Join"][1]
