"""IAM on the local stack refuses what AWS would refuse.

Each handler runs with its own role's credentials (from template.yaml after SAM's transform),
the state machine with its role, the endpoints with the model's role; moto authorises every
signed request against the caller's policies, with the resource ARN AWS would check."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from urllib.parse import parse_qsl, urlencode, urlparse

import boto3
import pytest
import requests
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from gallery import display
from gallery_local import template as tpl
from gallery_local.demo import DEMO
from gallery_local.iam_local import session_credentials
from gallery_local.tablet import Tablet
from tests.e2e.conftest import state_names

VISITOR = (DEMO / "photos" / "visitor-a.jpg").read_bytes()


def grants(action: str, resource_part: str = "") -> Callable[[dict], bool]:
    """A statement that allows `action` on a resource containing `resource_part`."""

    def matches(statement: dict) -> bool:
        actions = statement.get("Action")
        actions = actions if isinstance(actions, list) else [actions]
        resources = statement.get("Resource")
        resources = resources if isinstance(resources, list) else [resources]
        return action in actions and any(resource_part in str(r) for r in resources)

    return matches


@contextlib.contextmanager
def without_statement(stack, role: str, predicate: Callable[[dict], bool]) -> Iterator[None]:
    arn = stack.iam.role_arns[role]
    saved = stack.iam.remove_statement(arn, predicate)
    assert saved, f"{role} has no statement to remove"
    try:
        yield
    finally:
        stack.iam.restore_policies(arn, saved)


def as_role(stack, role: str, service: str):
    session = boto3.session.Session(**session_credentials(stack.iam.credentials(stack.iam.role_arns[role])))
    return session.client(service, endpoint_url=stack.endpoint, region_name=tpl.REGION)


def visit_item(stack, visit_id: str) -> dict:
    return stack.table("VisitsTable").get_item(Key={"visitId": visit_id}).get("Item") or {}


def test_removing_a_needed_statement_fails_the_visit_with_access_denied(stack):
    # CropFace writes the face crop to faces/; without that statement AWS refuses the put.
    with without_statement(stack, "CropFaceFunctionRole", grants("s3:PutObject", "/faces/")):
        visit = Tablet(stack, 2).visit(VISITOR, "painting")
    assert visit.status == "FAILED", visit.view
    stored = visit_item(stack, visit.visit_id)
    assert "AccessDenied" in json.dumps(stored, default=str)
    stack.wait_execution(stored["executionArn"])
    names = state_names(stack, stored["executionArn"])
    assert "CropFace" in names and "SwapFace" not in names and names[-1] == "Failed"
    # With the statement back, the next visitor is unaffected.
    assert Tablet(stack, 2).visit(VISITOR, "painting").status == "DONE"


def test_a_state_machine_role_without_invoke_cannot_run_its_tasks(stack):
    with without_statement(stack, "PipelineStateMachineRole", grants("lambda:InvokeFunction", "CropFace")):
        visit = Tablet(stack, 3).visit(VISITOR, "painting")
    stored = visit_item(stack, visit.visit_id)
    stack.wait_execution(stored["executionArn"])
    history = json.dumps(stack.history(stored["executionArn"]), default=str)
    assert visit.status == "FAILED" and "lambda:InvokeFunction" in history


def test_a_rule_whose_role_may_not_start_the_workflow_loses_the_event(stack):
    tablet = Tablet(stack, 6)
    before = {e["executionArn"] for e in stack.executions()}
    with without_statement(stack, "PipelineStateMachineUploadRole", grants("states:StartExecution")):
        code, created = tablet.start_visit("painting")
        assert tablet.upload(created, VISITOR).status_code == 204
        time.sleep(2)
    assert {e["executionArn"] for e in stack.executions()} == before
    assert visit_item(stack, created["visitId"])["status"] == "WAITING_FOR_PHOTO"


def test_a_role_reaches_only_its_own_tables(stack):
    claim = as_role(stack, "ClaimVisitFunctionRole", "dynamodb")
    names = stack.names
    claim.get_item(TableName=names.name("VisitsTable"), Key={"visitId": {"S": "0" * 32}})
    with pytest.raises(ClientError) as refused:
        claim.get_item(TableName=names.name("TokensTable"), Key={"inferenceId": {"S": "x"}})
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    with pytest.raises(ClientError) as refused:
        claim.scan(TableName=names.name("CatalogTable"))
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"


def test_unknown_credentials_are_refused(stack):
    stranger = boto3.client(
        "dynamodb",
        endpoint_url=stack.endpoint,
        region_name=tpl.REGION,
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )
    with pytest.raises(ClientError) as refused:
        stranger.list_tables()
    assert refused.value.response["Error"]["Code"] in ("InvalidClientTokenId", "UnrecognizedClientException")


def test_presigned_urls_are_checked_like_s3(stack):
    key = "results/iam-check.png"
    stack.client("s3").put_object(Bucket=stack.bucket, Key=key, Body=b"png")
    url = stack.client("s3").generate_presigned_url("get_object", Params={"Bucket": stack.bucket, "Key": key})
    assert requests.get(url, timeout=10).content == b"png"
    # A forged signature, an expired URL, and a URL signed by a role that may not read.
    parts = urlparse(url)
    query = dict(parse_qsl(parts.query))
    query["X-Amz-Signature"] = "0" * 64
    assert requests.get(parts._replace(query=urlencode(query)).geturl(), timeout=10).status_code == 403
    short = stack.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": stack.bucket, "Key": key}, ExpiresIn=1
    )
    time.sleep(1.5)
    assert requests.get(short, timeout=10).status_code == 403
    no_read = as_role(stack, "CreateVisitFunctionRole", "s3")
    signed = no_read.generate_presigned_url("get_object", Params={"Bucket": stack.bucket, "Key": key})
    assert requests.get(signed, timeout=10).status_code == 403
    assert requests.get(f"{stack.endpoint}/{stack.bucket}/{key}", timeout=10).status_code == 403  # anonymous


def test_a_presigned_post_holds_only_for_its_own_key_and_fields(stack):
    tablet = Tablet(stack, 7)
    code, created = tablet.start_visit("painting")
    upload = created["upload"]
    other_key = dict(upload, fields={**upload["fields"], "key": f"uploads/7/{'ab' * 16}.jpg"})
    assert tablet.upload({**created, "upload": other_key}, VISITOR).status_code == 403
    extra = dict(upload, fields={**upload["fields"], "acl": "public-read"})
    assert tablet.upload({**created, "upload": extra}, VISITOR).status_code == 403
    assert tablet.upload(created, VISITOR).status_code == 204


def test_appsync_checks_the_signers_permission(stack):
    tile = {"displayId": "9", "status": "DEFAULT"}

    def publish_as(role: str) -> dict:
        c = stack.iam.credentials(stack.iam.role_arns[role])
        creds = Credentials(c["AWS_ACCESS_KEY_ID"], c["AWS_SECRET_ACCESS_KEY"], c["AWS_SESSION_TOKEN"])
        return display.publish(creds, tpl.REGION, stack.appsync.url, tile)

    assert publish_as("PublishDisplayFunctionRole")["displayId"] == "9"
    with pytest.raises(Exception, match="401|Unauthorized|not authorized"):
        publish_as("CreateVisitFunctionRole")
