"""gallery.catalog_review on moto: listing a theme, the operators' decisions, the counts."""

from __future__ import annotations

import pytest

from gallery import catalog_items, catalog_review
from gallery.errors import BadRequest
from tests.unit.conftest import create_catalog_table

NOW = "2026-11-29T05:00:00.000Z"


@pytest.fixture
def catalog(aws_session):
    return create_catalog_table(aws_session.resource("dynamodb"))


def put(catalog, portrait_id: str, status: str, theme: str = "painting", **extra) -> dict:
    item = {"theme": theme, "portraitId": portrait_id, "status": status, **extra}
    catalog.put_item(Item=item)
    return item


def get(catalog, portrait_id: str, theme: str = "painting") -> dict | None:
    return catalog.get_item(Key={"theme": theme, "portraitId": portrait_id}).get("Item")


def test_items_reads_every_page_of_one_theme(catalog):
    story = "x" * 4000  # 300 items of 4 kB: several 1 MB pages
    for i in range(300):
        put(catalog, f"p{i:03d}", catalog_items.PENDING_REVIEW, storyEn=story)
    put(catalog, "other", catalog_items.PENDING_REVIEW, theme="travel")
    got = catalog_review.items(catalog, "painting")
    assert [i["portraitId"] for i in got] == [f"p{i:03d}" for i in range(300)]
    only = catalog_review.items(catalog, "travel", statuses=(catalog_items.APPROVED,))
    assert only == []


def test_items_refuses_an_unknown_theme(catalog):
    with pytest.raises(BadRequest):
        catalog_review.items(catalog, "cubism")


def test_approve_and_reject_record_who_when_and_why(catalog):
    put(catalog, "a", catalog_items.PENDING_REVIEW)
    put(catalog, "b", catalog_items.REJECTED, reviewReason="FaceTooSmall")
    put(catalog, "c", catalog_items.APPROVED)

    result = catalog_review.decide(catalog, "painting", ["a", "b"], "APPROVED", None, "operator", NOW)
    assert [d["portraitId"] for d in result["decided"]] == ["a", "b"] and result["refused"] == []
    for pid in ("a", "b"):
        item = get(catalog, pid)
        assert item["status"] == "APPROVED" and item["reviewedBy"] == "operator" and item["reviewedAt"] == NOW
        assert "reviewReason" not in item  # an approved portrait has no rejection reason left

    result = catalog_review.decide(catalog, "painting", ["c"], "REJECTED", "  Six fingers ", "ana", NOW)
    assert result["decided"][0]["status"] == "REJECTED"
    item = get(catalog, "c")
    assert item["reviewReason"] == "Six fingers" and item["reviewedBy"] == "ana"


# FILTERED, FAILED (and GENERATED, not yet reviewed automatically): no usable portrait yet.
@pytest.mark.parametrize("status", [s for s in catalog_items.STATUSES if s not in catalog_items.REVIEWABLE])
def test_decide_refuses_items_without_a_usable_portrait(catalog, status):
    before = put(catalog, "bad", status, filterReason="content filter")
    put(catalog, "good", catalog_items.PENDING_REVIEW)
    result = catalog_review.decide(catalog, "painting", ["bad", "good"], "APPROVED", "", "operator", NOW)
    assert [d["portraitId"] for d in result["decided"]] == ["good"]
    (refused,) = result["refused"]
    assert refused["portraitId"] == "bad" and refused["error"] == catalog_review.NOT_REVIEWABLE
    assert refused["status"] == status and status in refused["message"]
    assert get(catalog, "bad") == before  # untouched


def test_decide_reports_unknown_ids_and_never_creates_them(catalog):
    put(catalog, "known", catalog_items.PENDING_REVIEW)
    put(catalog, "elsewhere", catalog_items.PENDING_REVIEW, theme="travel")
    result = catalog_review.decide(catalog, "painting", ["ghost", "elsewhere"], "REJECTED", "no", "op", NOW)
    assert result["decided"] == []
    assert [(r["portraitId"], r["error"], r["status"]) for r in result["refused"]] == [
        ("ghost", catalog_review.NOT_FOUND, None),
        ("elsewhere", catalog_review.NOT_FOUND, None),
    ]
    assert get(catalog, "ghost") is None and get(catalog, "elsewhere") is None
    assert get(catalog, "elsewhere", "travel")["status"] == catalog_items.PENDING_REVIEW


@pytest.mark.parametrize(
    ("ids", "decision", "reason"),
    [
        ([], "APPROVED", None),
        (["a", 3], "APPROVED", None),
        (["a"], "PENDING_REVIEW", None),
        (["a"], "FILTERED", None),
        (["a"], "REJECTED", None),  # a rejection needs a reason
        (["a"], "REJECTED", "   "),
        (["a"], "REJECTED", "x" * 201),
        (["a"], "REJECTED", 7),
        ([f"p{i}" for i in range(catalog_review.MAX_IDS + 1)], "APPROVED", None),
    ],
)
def test_decide_refuses_malformed_requests_before_writing(catalog, ids, decision, reason):
    put(catalog, "a", catalog_items.PENDING_REVIEW)
    with pytest.raises(BadRequest):
        catalog_review.decide(catalog, "painting", ids, decision, reason, "op", NOW)
    assert get(catalog, "a")["status"] == catalog_items.PENDING_REVIEW


def test_counts_are_exact_per_status_and_among_approved(catalog):
    rows = [
        ("a1", "APPROVED", "female", "young", "light"),
        ("a2", "APPROVED", "female", "adult", "light"),
        ("a3", "APPROVED", "male", "adult", "very light"),
        ("a4", "APPROVED", None, "senior", None),
        ("p1", "PENDING_REVIEW", "male", "young", "dark"),
        ("p2", "PENDING_REVIEW", "female", "young", "dark"),
        ("r1", "REJECTED", "male", "adult", "tan"),
        ("f1", "FILTERED", "female", "senior", "brown"),
        ("x1", "FAILED", None, None, None),
    ]
    for pid, status, gender, band, tone in rows:
        extra = {k: v for k, v in (("gender", gender), ("ageBand", band), ("skinTone", tone)) if v}
        put(catalog, pid, status, **extra)
    put(catalog, "t1", "APPROVED", theme="travel", gender="male", ageBand="adult", skinTone="tan")

    got = catalog_review.counts(catalog, ["painting", "travel", "animation"])
    assert got["painting"] == {
        "total": 9,
        "status": dict.fromkeys(catalog_items.STATUSES, 0)
        | {"PENDING_REVIEW": 2, "APPROVED": 4, "REJECTED": 1, "FILTERED": 1, "FAILED": 1},
        "approved": {
            "gender": {"female": 2, "male": 1, "unknown": 1},
            "ageBand": {"adult": 2, "senior": 1, "young": 1},
            "skinTone": {"light": 2, "unknown": 1, "very light": 1},
        },
    }
    assert got["travel"]["total"] == 1 and got["travel"]["approved"]["skinTone"] == {"tan": 1}
    assert got["animation"] == {
        "total": 0,
        "status": dict.fromkeys(catalog_items.STATUSES, 0),
        "approved": {"gender": {}, "ageBand": {}, "skinTone": {}},
    }

    # A decision moves one item between the counts and nothing else.
    catalog_review.decide(catalog, "painting", ["p1"], "APPROVED", None, "op", NOW)
    after = catalog_review.counts(catalog, ["painting"])["painting"]
    assert after["status"]["APPROVED"] == 5 and after["status"]["PENDING_REVIEW"] == 1
    assert after["approved"]["skinTone"]["dark"] == 1 and after["approved"]["gender"]["male"] == 2
