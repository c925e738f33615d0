"""The pages' config.json (gallery_local.serve): one builder for the local stack and for a deployed
one, and the retention it shows is the stack's ResultRetentionDays, the value the results
bucket's lifecycle rule is made with, not a number of its own."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest

from gallery_local import serve
from gallery_local import template as tpl
from gallery_local.stack import LocalStack

OUTPUTS = {
    "ApiUrl": "https://api.example/dev/",
    "GraphQLUrl": "https://abc.appsync-api.us-east-1.amazonaws.com/graphql",
    "GraphQLApiKey": "da2-key",
    "UserPoolId": "us-east-1_pool",
    "UserPoolClientId": "client",
}


def template_default() -> int:
    return int(LocalStack().template["Parameters"]["ResultRetentionDays"]["Default"])


def local_serve(parameters: dict[str, str], template: dict | None = None) -> serve.Serve:
    """A Serve on a LocalStack that is not started: only what config() reads."""
    stack = LocalStack()
    if template is not None:
        stack.template = template
    stack.parameters = {"Stage": "dev", **parameters}
    stack.endpoint, stack.user_pool_id, stack.user_pool_client_id = "http://127.0.0.1:5000", "pool", "client"
    stack.api = SimpleNamespace(url="http://127.0.0.1:5001")
    stack.appsync = SimpleNamespace(url="http://127.0.0.1:5002/graphql", auth=SimpleNamespace(api_key="da2-local"))
    served = serve.Serve(stack)
    served.realtime = SimpleNamespace(url="ws://127.0.0.1:5003/graphql")
    return served


def lifecycle_days(served: serve.Serve, rule_id: str = "ExpireResults") -> int:
    """The ExpirationInDays the local stack creates the results rule with (its own Resolver)."""
    stack = served.stack
    resolver = tpl.Resolver(stack.template, stack.names, stack.parameters)
    rules = resolver.value(stack.template["Resources"]["PhotoBucket"]["Properties"]["LifecycleConfiguration"])
    return int(next(r for r in rules["Rules"] if r["Id"] == rule_id)["ExpirationInDays"])


def test_without_the_parameter_the_template_default_is_shown():
    served = local_serve({})
    assert served.config()["retentionDays"] == template_default() == lifecycle_days(served)


@pytest.mark.parametrize("days", ["1", "30", "365"])
def test_the_stacks_parameter_is_shown(days):
    served = local_serve({"ResultRetentionDays": days})
    assert served.config()["retentionDays"] == int(days) == lifecycle_days(served)


def test_a_changed_template_default_is_shown():
    template = copy.deepcopy(LocalStack().template)
    template["Parameters"]["ResultRetentionDays"]["Default"] = 21
    served = local_serve({}, template)
    assert served.config()["retentionDays"] == 21 == lifecycle_days(served)


def test_a_deployed_stack_shows_its_parameter_or_the_template_default():
    assert serve.config_from_outputs(OUTPUTS, "us-east-1", {"ResultRetentionDays": "45"})["retentionDays"] == 45
    assert serve.config_from_outputs(OUTPUTS, "us-east-1", {})["retentionDays"] == template_default()


def test_one_config_shape_for_both():
    local = local_serve({}).config()
    deployed = serve.config_from_outputs(OUTPUTS, "eu-west-1", {})
    assert local.keys() == deployed.keys() and local["cognito"].keys() == deployed["cognito"].keys()
    assert local["realtimeUrl"] == "ws://127.0.0.1:5003/graphql"
    assert local["cognito"] == {
        "region": tpl.REGION,
        "endpoint": "http://127.0.0.1:5000/",
        "userPoolId": "pool",
        "clientId": "client",
    }
    assert deployed["realtimeUrl"] == "wss://abc.appsync-realtime-api.us-east-1.amazonaws.com/graphql"
    assert deployed["apiUrl"] == "https://api.example/dev"
    assert deployed["cognito"]["endpoint"] == "https://cognito-idp.eu-west-1.amazonaws.com/"
