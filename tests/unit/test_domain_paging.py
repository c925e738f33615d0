"""gallery.paging: every page of a Query or Scan, read only as far as the caller reads."""

from __future__ import annotations

import itertools

import boto3
import pytest
from moto import mock_aws

from gallery import paging, visits
from tests.unit.conftest import REGION, create_visits_table


class Pages:
    """A Query that answers three pages of two items, and records what it was asked."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def __call__(self, **kwargs) -> dict:
        self.calls.append(dict(kwargs))
        n = int(kwargs.get("ExclusiveStartKey", {}).get("n", 0))
        page = {"Items": [{"n": n + 1}, {"n": n + 2}]}
        if n + 2 < 6:
            page["LastEvaluatedKey"] = {"n": n + 2}
        return page


def test_every_page_in_order_each_asked_from_where_the_last_ended():
    query = Pages()
    assert [i["n"] for i in paging.items(query, IndexName="x")] == [1, 2, 3, 4, 5, 6]
    assert query.calls == [
        {"IndexName": "x"},
        {"IndexName": "x", "ExclusiveStartKey": {"n": 2}},
        {"IndexName": "x", "ExclusiveStartKey": {"n": 4}},
    ]


def test_a_caller_that_stops_early_reads_no_further_page():
    query = Pages()
    assert [i["n"] for i in itertools.islice(paging.items(query), 2)] == [1, 2]
    assert len(query.calls) == 1
    assert [i["n"] for i in itertools.islice(paging.items(query), 3)] == [1, 2, 3]
    assert len(query.calls) == 3


@pytest.fixture
def visit_table(aws_env):
    with mock_aws():
        yield create_visits_table(boto3.session.Session(region_name=REGION).resource("dynamodb"))


def test_newest_first_reads_a_displays_visits_newest_first_across_pages(visit_table):
    for n in range(7):
        for display in ("3", "4"):
            visit_table.put_item(
                Item={"visitId": f"{display}{n:031x}", "displayId": display, "createdAt": f"2026-11-24T14:0{n}:00Z"}
            )
    read = [v["createdAt"][11:16] for v in visits.newest_first(visit_table, "3", 2)]
    assert read == [f"14:0{n}" for n in reversed(range(7))]
    first = [v["visitId"] for v in itertools.islice(visits.newest_first(visit_table, "4", 3), 3)]
    assert first == [f"4{n:031x}" for n in (6, 5, 4)]
