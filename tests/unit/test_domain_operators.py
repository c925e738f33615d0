"""gallery.operators: who is an operator, which displays, recent visits."""

import pytest

from gallery import operators
from gallery.errors import BadRequest
from tests.unit.conftest import create_visits_table


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        ("operators", True),
        ("[operators tablets]", True),
        ("tablets,operators", True),
        (["operators"], True),
        ("tablets", False),
        ("", False),
        ("operatorsx", False),
    ],
)
def test_operator_groups_as_api_gateway_passes_them(claim, expected):
    assert operators.is_operator({"cognito:groups": claim}) is expected


def test_no_groups_is_not_an_operator():
    assert operators.is_operator({}) is False


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("1-3", ["1", "2", "3"]), ("3", ["3"]), ("1,3,5-6", ["1", "3", "5", "6"]), ("2,2,1-2", ["2", "1"])],
)
def test_display_ids(spec, expected):
    assert operators.display_ids(spec) == expected


@pytest.mark.parametrize("spec", ["a", "1-b", "", "1-100"])
def test_display_ids_refuses_nonsense(spec):
    with pytest.raises(BadRequest):
        operators.display_ids(spec)


def test_recent_visits_merges_displays_newest_first(aws_session):
    table = create_visits_table(aws_session.resource("dynamodb"))
    for i, (display, created) in enumerate(
        [("1", "2026-01-01T10:00"), ("2", "2026-01-01T11:00"), ("1", "2026-01-01T12:00"), ("3", "2026-01-01T13:00")]
    ):
        table.put_item(
            Item={
                "visitId": f"{i:032x}",
                "displayId": display,
                "createdAt": created,
                "status": "FAILED",
                "cause": "boom",
                "executionArn": f"arn:{i}",
            }
        )
    got = operators.recent_visits(table, ["1", "2"], 10)
    assert [v["createdAt"] for v in got] == ["2026-01-01T12:00", "2026-01-01T11:00", "2026-01-01T10:00"]
    assert got[0]["cause"] == "boom" and got[0]["executionArn"] == "arn:2"  # operators see the cause
    assert len(operators.recent_visits(table, ["1", "2", "3"], 2)) == 2
