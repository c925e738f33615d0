"""Unit tests talk to moto in-process (mock_aws), never to a running local stack."""

import boto3
import pytest
from moto import mock_aws

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


def create_visits_table(dynamodb, name: str = "visits"):
    """The visits table as template.yaml declares it: visitId, and the byDisplay index."""
    return dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"} for n in ("visitId", "displayId", "createdAt")
        ],
        KeySchema=[{"AttributeName": "visitId", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byDisplay",
                "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [
                    {"AttributeName": "displayId", "KeyType": "HASH"},
                    {"AttributeName": "createdAt", "KeyType": "RANGE"},
                ],
            }
        ],
    )


def create_catalog_table(dynamodb, name: str = "catalog"):
    """The catalog table as template.yaml declares it: theme, then portraitId."""
    return dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("theme", "portraitId")],
        KeySchema=[
            {"AttributeName": "theme", "KeyType": "HASH"},
            {"AttributeName": "portraitId", "KeyType": "RANGE"},
        ],
    )
