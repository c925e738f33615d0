"""Reading template.yaml: the one list of resources the local stack builds.

CloudFormation intrinsics are resolved against local names and ARNs, so the stack gets the
same tables, buckets, topics, functions and state machine that `sam deploy` creates."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ACCOUNT = "123456789012"
REGION = "us-east-1"
_SHORT_TAGS = ("Ref", "Condition")
_FN_TAGS = (
    "GetAtt",
    "Sub",
    "Join",
    "Select",
    "Split",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "FindInMap",
    "Base64",
    "GetAZs",
    "ImportValue",
    "Cidr",
    "Length",
    "ToJsonString",
)


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !GetAtt, !Sub, ...)."""


def _construct(tag: str) -> Callable[[yaml.SafeLoader, yaml.Node], dict]:
    def build(loader: yaml.SafeLoader, node: yaml.Node) -> dict:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if tag == "GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        elif isinstance(node, yaml.MappingNode):
            value = loader.construct_mapping(node, deep=True)
        else:
            raise yaml.constructor.ConstructorError(None, None, f"unexpected node for !{tag}", node.start_mark)
        key = tag if tag in _SHORT_TAGS else f"Fn::{tag}"
        return {key: value}

    return build


for _tag in _SHORT_TAGS + _FN_TAGS:
    _CfnLoader.add_constructor(f"!{_tag}", _construct(_tag))


def load(path: Path) -> dict:
    return yaml.load(Path(path).read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


@dataclass
class LocalNames:
    """Physical names and ARNs of the template's resources on the local stack."""

    stack: str
    resources: dict[str, dict]
    extra_attrs: dict[tuple[str, str], str] = field(default_factory=dict)

    def name(self, logical_id: str) -> str:
        kind = self.resources[logical_id]["Type"]
        base = f"{self.stack}-{logical_id}"
        return base.lower() if kind == "AWS::S3::Bucket" else base

    def arn(self, logical_id: str) -> str:
        kind = self.resources[logical_id]["Type"]
        n = self.name(logical_id)
        return {
            "AWS::S3::Bucket": f"arn:aws:s3:::{n}",
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{n}",
            "AWS::SNS::Topic": f"arn:aws:sns:{REGION}:{ACCOUNT}:{n}",
            "AWS::Serverless::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{n}",
            "AWS::Serverless::StateMachine": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{n}",
            "AWS::SageMaker::Endpoint": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{n.lower()}",
            "AWS::SageMaker::EndpointConfig": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/{n.lower()}",
            "AWS::SageMaker::Model": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/{n.lower()}",
            "AWS::IAM::Role": f"arn:aws:iam::{ACCOUNT}:role/{n}",
            "AWS::Cognito::UserPool": f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{n}",
            "AWS::AppSync::GraphQLApi": f"arn:aws:appsync:{REGION}:{ACCOUNT}:apis/{n}",
        }.get(kind, f"arn:aws:local:{REGION}:{ACCOUNT}:{logical_id}/{n}")

    def ref(self, logical_id: str) -> str:
        kind = self.resources[logical_id]["Type"]
        if kind in (
            "AWS::SNS::Topic",
            "AWS::SageMaker::Endpoint",
            "AWS::SageMaker::EndpointConfig",
            "AWS::SageMaker::Model",
            "AWS::Serverless::StateMachine",
            "AWS::Serverless::LayerVersion",
        ):
            return self.arn(logical_id)
        if (logical_id, "Ref") in self.extra_attrs:
            return self.extra_attrs[(logical_id, "Ref")]
        return self.name(logical_id)

    def get_att(self, logical_id: str, attr: str) -> str:
        if (logical_id, attr) in self.extra_attrs:
            return self.extra_attrs[(logical_id, attr)]
        if attr == "Arn":
            return self.arn(logical_id)
        if attr in ("EndpointName", "EndpointConfigName", "ModelName", "TopicName", "Name"):
            return self.name(logical_id).lower() if "Endpoint" in attr or attr == "ModelName" else self.name(logical_id)
        return f"{self.name(logical_id)}.{attr}"


class Resolver:
    """Evaluates intrinsic functions with local values."""

    def __init__(self, template: dict, names: LocalNames, parameters: dict[str, str]) -> None:
        self.template = template
        self.names = names
        self.parameters = {
            name: str(parameters.get(name, spec.get("Default", "")))
            for name, spec in (template.get("Parameters") or {}).items()
        }
        self.pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::StackName": names.stack,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": None,
        }
        self.conditions = {k: self.value(v) for k, v in (template.get("Conditions") or {}).items()}

    def _ref(self, name: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        if name in self.pseudo:
            return self.pseudo[name]
        return self.names.ref(name)

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.value(x) for x in node) if v is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return _NO_VALUE if arg == "AWS::NoValue" else self._ref(arg)
            if key == "Condition":
                return self.conditions[arg]
            if key.startswith("Fn::"):
                return self._fn(key[4:], arg)
        out = {}
        for k, v in node.items():
            resolved = self.value(v)
            if resolved is not _NO_VALUE:
                out[k] = resolved
        return out

    def _fn(self, fn: str, arg: Any) -> Any:
        if fn == "GetAtt":
            logical, attr = arg if isinstance(arg, list) else arg.split(".", 1)
            return self.names.get_att(logical, attr)
        if fn == "Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.value(arg[1]))

            def sub(m: re.Match) -> str:
                var = m.group(1)
                if var.startswith("!"):
                    return "${" + var[1:] + "}"
                if var in variables:
                    return str(variables[var])
                if "." in var and var.split(".", 1)[0] in self.names.resources:
                    return self.names.get_att(*var.split(".", 1))
                return str(self._ref(var))

            return re.sub(r"\$\{([^}]+)\}", sub, text)
        if fn == "Join":
            sep, items = arg
            return sep.join(str(x) for x in self.value(items))
        if fn == "Select":
            index, items = self.value(arg)
            return items[int(index)]
        if fn == "Split":
            sep, text = self.value(arg)
            return text.split(sep)
        if fn == "If":
            cond, yes, no = arg
            return self.value(yes if self.conditions[cond] else no)
        if fn == "Equals":
            a, b = self.value(arg)
            return str(a) == str(b)
        if fn == "Not":
            return not self.value(arg[0])
        if fn == "And":
            return all(self.value(x) for x in arg)
        if fn == "Or":
            return any(self.value(x) for x in arg)
        if fn == "ToJsonString":
            import json

            return json.dumps(self.value(arg))
        raise NotImplementedError(f"Fn::{fn} is not supported by the local stack")


_NO_VALUE = object()


def resources_of(template: dict, kind: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def sam_transform(template: dict) -> dict:
    """template.yaml as CloudFormation receives it after SAM's transform: the generated roles
    (policy templates expanded), permissions, rules and stages. Local code paths become s3://
    placeholders, as `sam package` would make them; nothing else changes."""
    import copy
    import logging

    import boto3
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    doc = copy.deepcopy(template)
    for resource in doc["Resources"].values():
        props = resource.get("Properties") or {}
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://local-artifacts/{props[key]}"

    def no_managed_policy_names() -> dict:
        raise ValueError("template.yaml names a managed policy by name; use an ARN or a policy template")

    # The session names the region; otherwise SAM asks the environment, which may have none.
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=REGION))
    try:
        return translator.translate(doc, parameter_values={}, get_managed_policy_map=no_managed_policy_names)
    except InvalidDocumentException as e:
        raise ValueError("; ".join(str(c) for c in e.causes)) from e
