"""`gallery catalog ...` against a deployed stack (`--stack NAME`), on moto's in-process mock: the
stack's Outputs name the workflow, table and bucket, and the models its roles allow. (The same
commands on the local stack run in tests/e2e/test_catalog_workflow.py's workflow.)"""

from __future__ import annotations

import io
import json
import sys

import pytest

from gallery import catalog_items
from gallery_local import catalog_workflow, cli
from tests.unit.conftest import create_catalog_table

OUTPUTS = {
    "CatalogStateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:catalog",
    "CatalogTableName": "catalog",
    "PhotoBucketName": "photos",
    "CatalogImageModelId": "stability.stable-image-core-v1:1",
    "CatalogTextModelId": "us.anthropic.claude-haiku-4-5-20251001-v1:0",
}


@pytest.fixture
def deployed(aws_session):
    """A deployed stack as CloudFormation describes it, with its catalog table."""
    template = {
        "Resources": {"Nothing": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {k: {"Value": v} for k, v in OUTPUTS.items()},
    }
    aws_session.client("cloudformation").create_stack(StackName="gallery-prod", TemplateBody=json.dumps(template))
    return create_catalog_table(aws_session.resource("dynamodb"))


def test_a_deployed_stack_is_found_by_its_outputs(deployed, aws_session):
    target = catalog_workflow.aws_target("gallery-prod", aws_session)
    assert target.state_machine_arn == OUTPUTS["CatalogStateMachineArn"]
    assert target.bucket == "photos" and target.catalog.name == "catalog"
    assert (target.image_model, target.text_model) == (OUTPUTS["CatalogImageModelId"], OUTPUTS["CatalogTextModelId"])
    assert target.where == "stack gallery-prod"


def test_generate_refuses_a_model_the_stack_may_not_call(deployed, capsys):
    code = cli.main(
        ["catalog", "generate", "--theme", "painting", "--limit", "2", "--yes", "--stack", "gallery-prod"]
        + ["--model", "stability.sd3-5-large-v1:0"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "stack gallery-prod may call stability.stable-image-core-v1:1 only" in err


def test_generate_asks_before_spending(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal, and no --yes
    assert cli.main(["catalog", "generate", "--theme", "painting", "--limit", "2"]) == 2
    out = capsys.readouterr()
    assert "2 portraits and 2 stories" in out.out and "about $0.08" in out.out
    assert "Nothing spent: add --yes" in out.err


def test_status_counts_a_deployed_catalog(deployed, capsys):
    rows = [
        ("a", catalog_items.APPROVED, "female", "young", "light", None),
        ("b", catalog_items.APPROVED, "male", "adult", "brown", None),
        ("c", catalog_items.REJECTED, "male", "adult", "brown", "FaceTooSmall"),
        ("d", catalog_items.REJECTED, "female", "senior", "dark", "FaceTooSmall"),
        ("e", catalog_items.FILTERED, "male", "young", "tan", None),
    ]
    for pid, status, gender, age, tone, reason in rows:
        item = {"theme": "travel", "portraitId": pid, "status": status, "gender": gender, "ageBand": age}
        item.update(skinTone=tone, **({"reviewReason": reason} if reason else {}))
        deployed.put_item(Item=item)
    assert cli.main(["catalog", "status", "--theme", "travel", "--json", "--stack", "gallery-prod"]) == 0
    travel = json.loads(capsys.readouterr().out)["travel"]
    assert travel["total"] == 5
    assert {k: v for k, v in travel["status"].items() if v} == {"APPROVED": 2, "REJECTED": 2, "FILTERED": 1}
    assert travel["approved"]["gender"] == {"female": 1, "male": 1}
    assert travel["approved"]["skinTone"] == {"brown": 1, "light": 1}
    assert travel["rejectedFor"] == {"FaceTooSmall": 2}


def test_approve_all_approves_only_what_awaits_review(deployed, capsys):
    for pid, status in (("a", catalog_items.PENDING_REVIEW), ("b", catalog_items.REJECTED), ("c", "FILTERED")):
        deployed.put_item(Item={"theme": "painting", "portraitId": pid, "status": status})
    assert cli.main(["catalog", "approve", "--theme", "painting", "--all", "--stack", "gallery-prod"]) == 0
    assert "1 approved in painting" in capsys.readouterr().out
    status = {i["portraitId"]: i["status"] for i in deployed.scan()["Items"]}
    assert status == {"a": "APPROVED", "b": "REJECTED", "c": "FILTERED"}
    assert deployed.get_item(Key={"theme": "painting", "portraitId": "a"})["Item"]["reviewedBy"].endswith(
        "(gallery catalog)"
    )


def test_reject_needs_a_reason():
    with pytest.raises(SystemExit):
        cli.main(["catalog", "reject", "--theme", "painting", "a", "--stack", "gallery-prod"])
