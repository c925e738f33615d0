"""The hops AWS authorises with a function's resource policy, which the local stack does not
enforce: every API route, SNS subscription and EventBridge rule target that invokes a function
in the deployed template has the AWS::Lambda::Permission for exactly that source. Without it
AWS refuses the invocation (API 500, SNS and EventBridge drop the message) though every local
test passes."""

from __future__ import annotations

import pytest

from gallery_local import template as tpl
from tests.conftest import load_template


@pytest.fixture(scope="module")
def resources() -> dict:
    return tpl.sam_transform(load_template())["Resources"]


def _function_of(value: object) -> str | None:
    """The logical id of a function named by Ref or GetAtt ...Arn."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            target = target.split(".") if isinstance(target, str) else target
            return target[0]
    return None


def _permissions(resources: dict) -> list[dict]:
    return [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"]


def _allowed(resources: dict, function: str, principal: str, source: object | None = None) -> bool:
    for p in _permissions(resources):
        if _function_of(p["FunctionName"]) != function or p["Principal"] != principal:
            continue
        if p.get("Action") != "lambda:InvokeFunction":
            continue
        if source is None or p.get("SourceArn") == source:
            return True
    return False


def test_every_sns_subscription_to_a_function_is_permitted(resources):
    subscriptions = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::SNS::Subscription" and r["Properties"].get("Protocol") == "lambda"
    ]
    assert subscriptions, "the inference callback subscribes to the endpoints' topics"
    for sub in subscriptions:
        fn = _function_of(sub["Endpoint"])
        assert _allowed(resources, fn, "sns.amazonaws.com", sub["TopicArn"]), f"{fn} may not be invoked by {sub}"


def test_every_rule_target_function_is_permitted(resources):
    for logical, r in resources.items():
        if r["Type"] != "AWS::Events::Rule":
            continue
        for target in r["Properties"].get("Targets", []):
            fn = _function_of(target["Arn"])
            if fn is None or resources.get(fn, {}).get("Type") != "AWS::Lambda::Function":
                continue
            source = {"Fn::GetAtt": [logical, "Arn"]}
            assert _allowed(resources, fn, "events.amazonaws.com", source), f"rule {logical} cannot invoke {fn}"


def test_every_api_route_function_is_permitted(resources):
    api_functions = {
        logical
        for logical, r in load_template()["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function"
        and any(e["Type"] == "Api" for e in (r["Properties"].get("Events") or {}).values())
    }
    assert api_functions
    for fn in api_functions:
        assert _allowed(resources, fn, "apigateway.amazonaws.com"), f"API Gateway may not invoke {fn}"


def test_the_check_can_fail(resources):
    """Without its permissions, the callback's subscriptions are caught."""
    stripped = {
        k: v for k, v in resources.items() if not (v["Type"] == "AWS::Lambda::Permission" and "InferenceCallback" in k)
    }
    with pytest.raises(AssertionError):
        test_every_sns_subscription_to_a_function_is_permitted(stripped)
