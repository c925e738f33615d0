"""Every function's log is kept for a bounded time: after SAM's transform, as CloudFormation
receives the template, each Lambda function writes to a log group of this stack that has a
retention, and no log group of the stack keeps its data forever."""

from __future__ import annotations

from pathlib import Path

import pytest
from cfnlint.decode import cfn_yaml

from tests.unit.test_template import transformed  # noqa: F401 - fixture used by name

ROOT = Path(__file__).resolve().parents[2]
# CloudWatch's own default is "never expire"; the state machine's group has a fixed 30 days.
MAX_DAYS = 90


@pytest.fixture(scope="module")
def cfn(transformed: Path) -> dict:  # noqa: F811 - the imported fixture
    return cfn_yaml.load(str(transformed))


def _days(value: object, parameters: dict) -> int:
    if isinstance(value, dict):
        assert list(value) == ["Ref"] and value["Ref"] in parameters, f"not a number or a parameter: {value}"
        parameter = parameters[value["Ref"]]
        allowed = [int(v) for v in parameter.get("AllowedValues", [parameter["Default"]])]
        return max(allowed + [int(parameter["Default"])])
    return int(value)


def test_every_function_logs_to_its_own_log_group_with_a_retention(cfn: dict) -> None:
    resources = cfn["Resources"]
    functions = {n: r for n, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    assert len(functions) >= 13
    groups = set()
    for name, fn in functions.items():
        config = fn["Properties"].get("LoggingConfig") or {}
        ref = config.get("LogGroup")
        assert isinstance(ref, dict) and "Ref" in ref, f"{name} logs to Lambda's default group, kept forever"
        group = resources.get(ref["Ref"])
        assert group and group["Type"] == "AWS::Logs::LogGroup", f"{name}: {ref} is not a log group of the stack"
        assert str(group["Properties"]["LogGroupName"]["Fn::Sub"]).startswith("/aws/lambda/${AWS::StackName}-")
        assert "RetentionInDays" in group["Properties"], f"{ref['Ref']} has no retention"
        groups.add(ref["Ref"])
    assert len(groups) == len(functions), "each function has a log group of its own"


def test_no_log_group_keeps_its_logs_longer_than_the_limit(cfn: dict) -> None:
    resources, parameters = cfn["Resources"], cfn["Parameters"]
    groups = {n: r["Properties"] for n, r in resources.items() if r["Type"] == "AWS::Logs::LogGroup"}
    assert "PipelineLogGroup" in groups
    for name, props in groups.items():
        assert "RetentionInDays" in props, f"{name} would keep its logs forever"
        assert 1 <= _days(props["RetentionInDays"], parameters) <= MAX_DAYS, name
    assert int(parameters["LogRetentionDays"]["Default"]) == 14
    assert int(groups["PipelineLogGroup"]["RetentionInDays"]) == 30


def test_the_template_source_declares_the_same() -> None:
    """The source template, as the local stack reads it, names a log group for every function."""
    resources = cfn_yaml.load(str(ROOT / "template.yaml"))["Resources"]
    for name, r in resources.items():
        if r["Type"] == "AWS::Serverless::Function":
            group = r["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
            assert resources[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
