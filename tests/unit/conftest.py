"""Unit tests talk to moto in-process (mock_aws), never to a running local stack."""

import boto3
import pytest
from moto import mock_aws

from tests.conftest import load_template

REGION = "us-east-1"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, one region, and no endpoint override, for moto's in-process mock."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for k, v in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(k, v)


@pytest.fixture
def aws_session(aws_env: None):
    """A boto3 session on moto's in-process mock."""
    with mock_aws():
        yield boto3.session.Session(region_name=REGION)


def create_table(dynamodb, logical_id: str, name: str | None = None):
    """The table `logical_id` as template.yaml declares it (keys, attributes, indexes), on moto."""
    props = load_template()["Resources"][logical_id]["Properties"]
    schema = {k: props[k] for k in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes") if k in props}
    return dynamodb.create_table(TableName=name or logical_id, BillingMode=props["BillingMode"], **schema)


def create_visits_table(dynamodb, name: str = "visits"):
    return create_table(dynamodb, "VisitsTable", name)


def create_catalog_table(dynamodb, name: str = "catalog"):
    return create_table(dynamodb, "CatalogTable", name)
