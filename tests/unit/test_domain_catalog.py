"""gallery.catalog: approved portraits and the choice for one visit (choice logic pure;
queries on moto's DynamoDB with the template's key schemas)."""

from __future__ import annotations

import random

import boto3
import pytest
from moto import mock_aws

from gallery import catalog
from gallery.errors import NoPortraitAvailable
from tests.unit.conftest import create_visits_table

REGION = "us-east-1"
VISIT_IDS = [f"{n:032x}" for n in range(0, 2**128, 2**128 // 64)][:64]


def portrait(pid: str, gender: str | None = "any", band: str | None = "adult", **extra) -> dict:
    item = {
        "theme": "painting",
        "portraitId": pid,
        "key": f"catalog/painting/{pid}.jpg",
        "title": pid.title(),
        "story": f"The story of {pid}.",
        "status": "APPROVED",
        **extra,
    }
    if gender:
        item["gender"] = gender
    if band:
        item["ageBand"] = band
    return item


# ---------------------------------------------------------------- age_band


@pytest.mark.parametrize(
    "low,high,band",
    [
        (0, 6, "child"),
        (10, 16, "child"),
        (18, 24, "young"),
        (25, 33, "young"),
        (36, 44, "adult"),
        (50, 58, "adult"),
        (60, 70, "senior"),
        (75, 90, "senior"),
    ],
)
def test_age_band_of_a_rekognition_age_range(low, high, band):
    assert catalog.age_band({"low": low, "high": high}) == band


def test_no_age_range_no_band():
    assert catalog.age_band(None) is None
    assert catalog.age_band({}) is None


@pytest.mark.parametrize("low,high", [(14, 21), (31, 38), (55, 64)])
def test_age_band_of_a_range_whose_midpoint_falls_between_bands(low, high):
    assert catalog.age_band({"low": low, "high": high}) in {"child", "young", "adult", "senior"}


# ---------------------------------------------------------------- choose


def test_no_candidates_no_portrait():
    with pytest.raises(NoPortraitAvailable):
        catalog.choose([], VISIT_IDS[0], "female", "adult", None)


def test_gender_is_preferred_with_any_as_a_match():
    candidates = [portrait("her", "female"), portrait("him", "male"), portrait("anyone", "any")]
    picks = {catalog.choose(candidates, v, "female", None, None)["portraitId"] for v in VISIT_IDS}
    assert picks == {"her", "anyone"}
    picks = {catalog.choose(candidates, v, "male", None, None)["portraitId"] for v in VISIT_IDS}
    assert picks == {"him", "anyone"}


def test_age_band_is_preferred_within_the_gender():
    candidates = [
        portrait("young-her", "female", "young"),
        portrait("old-her", "female", "senior"),
        portrait("young-him", "male", "young"),
    ]
    for v in VISIT_IDS[:16]:
        assert catalog.choose(candidates, v, "female", "young", None)["portraitId"] == "young-her"
        assert catalog.choose(candidates, v, "female", "senior", None)["portraitId"] == "old-her"


def test_without_a_match_any_portrait_will_do():
    candidates = [portrait("him", "male", "adult"), portrait("other-him", "male", "senior")]
    picks = {catalog.choose(candidates, v, "female", "child", None)["portraitId"] for v in VISIT_IDS}
    assert picks == {"him", "other-him"}


def test_without_face_attributes_every_portrait_is_possible():
    candidates = [portrait(p, g) for p, g in (("a", "female"), ("b", "male"), ("c", "any"), ("d", None))]
    picks = {catalog.choose(candidates, v, None, None, None)["portraitId"] for v in VISIT_IDS}
    assert picks == {"a", "b", "c", "d"}


def test_the_last_portrait_of_the_display_is_avoided():
    candidates = [portrait("a"), portrait("b"), portrait("c")]
    for v in VISIT_IDS:
        assert catalog.choose(candidates, v, None, None, "b")["portraitId"] != "b"


def test_the_last_portrait_is_shown_again_when_it_is_the_only_match():
    candidates = [portrait("her", "female"), portrait("him", "male")]
    assert catalog.choose(candidates, VISIT_IDS[3], "female", None, "her")["portraitId"] == "her"


def test_the_choice_is_stable_for_a_visit_id():
    candidates = [portrait(f"p{n}") for n in range(7)]
    for v in VISIT_IDS[:16]:
        first = catalog.choose(candidates, v, None, None, None)
        shuffled = candidates[:]
        random.Random(v).shuffle(shuffled)
        assert catalog.choose(shuffled, v, None, None, None) == first
    # ...and spread over the catalog across visits.
    assert len({catalog.choose(candidates, v, None, None, None)["portraitId"] for v in VISIT_IDS}) == 7


# ---------------------------------------------------------------- the tables


@pytest.fixture
def tables(aws_env):
    with mock_aws():
        ddb = boto3.session.Session(region_name=REGION).resource("dynamodb")
        cat = ddb.create_table(
            TableName="catalog",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "theme", "AttributeType": "S"},
                {"AttributeName": "portraitId", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "theme", "KeyType": "HASH"},
                {"AttributeName": "portraitId", "KeyType": "RANGE"},
            ],
        )
        visits = create_visits_table(ddb)
        yield cat, visits


def test_only_approved_portraits_of_the_theme(tables):
    cat, _ = tables
    cat.put_item(Item=portrait("ok"))
    cat.put_item(Item=portrait("rejected", status="REJECTED", reviewReason="SeveralFaces"))
    cat.put_item(Item=portrait("pending", status="PENDING_REVIEW"))
    cat.put_item(Item={**portrait("elsewhere"), "theme": "travel"})
    assert [p["portraitId"] for p in catalog.approved(cat, "painting")] == ["ok"]
    assert [p["portraitId"] for p in catalog.approved(cat, "travel")] == ["elsewhere"]
    assert catalog.approved(cat, "animation") == []


def _visit(visits, n: int, display: str, status: str, portrait_id: str | None = None) -> None:
    item = {
        "visitId": f"{n:032x}",
        "displayId": display,
        "status": status,
        "createdAt": f"2026-11-24T14:{n:02d}:00.000Z",
        "theme": "painting",
    }
    if portrait_id:
        item["portraitId"] = portrait_id
    visits.put_item(Item=item)


def test_last_portrait_is_the_latest_finished_visit_of_the_display(tables):
    _, visits = tables
    assert catalog.last_portrait(visits, "3") is None
    _visit(visits, 1, "3", "DONE", "old")
    _visit(visits, 2, "3", "DONE", "latest")
    _visit(visits, 3, "3", "PROCESSING")
    _visit(visits, 4, "3", "FAILED", "never-shown")
    _visit(visits, 5, "4", "DONE", "other-display")
    assert catalog.last_portrait(visits, "3") == "latest"
    assert catalog.last_portrait(visits, "4") == "other-display"


def _processing(visits, visit_id: str, face: dict) -> dict:
    """A visit being processed whose crop step found `face` (CropFace's gender and ageRange)."""
    visits.put_item(
        Item={
            "visitId": visit_id,
            "displayId": "3",
            "theme": "painting",
            "status": "PROCESSING",
            "createdAt": "2026-11-24T15:00:00.000Z",
        }
    )
    assert catalog.remember_traits(visits, visit_id, catalog.face_traits(face))
    return {"visitId": visit_id, "displayId": "3", "theme": "painting"}


def test_choose_portrait_avoids_what_the_display_showed_last(tables):
    cat, visits = tables
    for pid in ("a", "b"):
        cat.put_item(Item=portrait(pid, "female", "young"))
    visit = _processing(visits, "f" * 32, {"gender": "female", "ageRange": {"low": 22, "high": 30}})
    first = catalog.choose_portrait(cat, visits, visit)
    assert set(first) == {"portraitId", "key", "title", "story"}
    _visit(visits, 9, "3", "DONE", first["portraitId"])
    second = catalog.choose_portrait(cat, visits, visit)
    assert second["portraitId"] != first["portraitId"]
    assert second["key"] == f"catalog/painting/{second['portraitId']}.jpg"


def test_choose_portrait_matches_rekognitions_gender_value(tables):
    cat, visits = tables
    cat.put_item(Item=portrait("her", "female", None))
    cat.put_item(Item=portrait("him", "male", None))
    cat.put_item(Item=portrait("anyone", "any", None))
    face = {"gender": "Female"}  # crop.crop_face: face["Gender"]["Value"]
    picks = {catalog.choose_portrait(cat, visits, _processing(visits, v, face))["portraitId"] for v in VISIT_IDS[:24]}
    assert "her" in picks and "him" not in picks


def test_face_traits_keep_a_band_not_the_estimated_ages():
    traits = catalog.face_traits({"gender": "Female", "ageRange": {"low": 29, "high": 37}})
    assert traits == {"gender": "female", "ageBand": "young"}
    assert catalog.face_traits({}) == {}


def test_traits_are_kept_on_the_visit_item_only_while_it_is_processed(tables):
    _, visits = tables
    _processing(visits, "a" * 32, {"gender": "male", "ageRange": {"low": 61, "high": 70}})
    assert catalog.traits_of(visits, "a" * 32) == {"gender": "male", "ageBand": "senior"}
    # A deleted visit is not written again, nor is a finished one.
    assert catalog.remember_traits(visits, "b" * 32, {"gender": "male"}) is False
    assert visits.get_item(Key={"visitId": "b" * 32}).get("Item") is None
    _visit(visits, 12, "3", "FAILED")
    assert catalog.remember_traits(visits, f"{12:032x}", {"gender": "male"}) is False
    assert catalog.traits_of(visits, f"{12:032x}") == {}


def test_a_portrait_without_title_or_story_gets_empty_ones_and_one_without_an_image_is_never_chosen(tables):
    cat, visits = tables
    cat.put_item(
        Item={"theme": "painting", "portraitId": "bare", "key": "catalog/painting/bare.jpg", "status": "APPROVED"}
    )
    cat.put_item(Item={"theme": "painting", "portraitId": "no-image", "title": "T", "story": "S", "status": "APPROVED"})
    for v in VISIT_IDS[:16]:
        chosen = catalog.choose_portrait(cat, visits, {"visitId": v, "displayId": "3", "theme": "painting"})
        assert chosen == {"portraitId": "bare", "key": "catalog/painting/bare.jpg", "title": "", "story": ""}
    cat.delete_item(Key={"theme": "painting", "portraitId": "bare"})
    with pytest.raises(NoPortraitAvailable):
        catalog.choose_portrait(cat, visits, {"visitId": "c" * 32, "displayId": "3", "theme": "painting"})
