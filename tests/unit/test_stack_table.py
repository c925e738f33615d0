"""LocalStack.table(): one DynamoDB resource per thread and set of credentials instead of a new
boto3 session per call, and every call still a usable Table (on moto's in-process mock)."""

from __future__ import annotations

import threading

from gallery_local import lambda_env
from gallery_local.stack import LocalStack
from tests.unit.conftest import create_visits_table


def stack_on_mock(aws_session) -> LocalStack:
    create_visits_table(aws_session.client("dynamodb"), LocalStack().names.name("VisitsTable"))
    stack = LocalStack()
    stack.endpoint = None  # AWS's own endpoint, which mock_aws answers
    return stack


def test_one_thread_reuses_its_resource_and_each_table_works(aws_session):
    stack = stack_on_mock(aws_session)
    first, second = stack.table("VisitsTable"), stack.table("VisitsTable")
    assert first.meta.client is second.meta.client
    first.put_item(Item={"visitId": "v1", "displayId": "1", "createdAt": "t"})
    assert second.get_item(Key={"visitId": "v1"})["Item"]["displayId"] == "1"
    assert first.name == stack.names.name("VisitsTable")


def test_threads_get_their_own_resource(aws_session):
    stack = stack_on_mock(aws_session)
    clients, errors = [], []

    def work(i: int) -> None:
        try:
            table = stack.table("VisitsTable")
            clients.append(table.meta.client)
            for n in range(5):
                table.put_item(Item={"visitId": f"{i}-{n}", "displayId": str(i), "createdAt": "t"})
            assert stack.table("VisitsTable").meta.client is table.meta.client
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({id(c) for c in clients}) == 4
    assert stack.table("VisitsTable").scan()["Count"] == 20


def test_other_credentials_get_another_resource(aws_session):
    stack = stack_on_mock(aws_session)
    environ = lambda_env.install()
    operator = stack.table("VisitsTable").meta.client
    # A Lambda sandbox's thread: its role's credentials, not the operator's.
    with environ.function({"AWS_ACCESS_KEY_ID": "ASIAROLE", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "us-east-1"}):
        role = stack.table("VisitsTable").meta.client
        assert role.meta.region_name == "us-east-1"
        assert role._request_signer._credentials.access_key == "ASIAROLE"
    assert role is not operator
    assert stack.table("VisitsTable").meta.client is operator
