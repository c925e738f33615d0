"""gallery.catalog: approved portraits and the choice for one visit (choice logic pure;
queries on moto's DynamoDB with the template's key schemas)."""

from __future__ import annotations

import random

import boto3
import pytest
from moto import mock_aws

from gallery import catalog, catalog_items
from gallery.errors import NoPortraitAvailable
from tests.unit.conftest import create_catalog_table, create_visits_table

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
        (0, 6, "young"),  # the catalog has no children's portraits: under 18 is young
        (10, 16, "young"),
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


@pytest.mark.parametrize(
    "low,high,band", [(14, 21, "young"), (31, 38, "young"), (32, 39, "adult"), (55, 64, "adult"), (56, 65, "senior")]
)
def test_age_band_of_a_range_whose_midpoint_falls_between_bands(low, high, band):
    assert catalog.age_band({"low": low, "high": high}) == band


def test_every_age_has_its_band_and_the_bands_are_the_catalogs():
    bands = [catalog.age_band({"low": a, "high": a}) for a in range(0, 100)]
    assert bands == ["young"] * 35 + ["adult"] * 25 + ["senior"] * 40  # 0-34, 35-59, 60+
    assert tuple(dict.fromkeys(bands)) == catalog_items.AGE_BANDS


# ---------------------------------------------------------------- choose (the ladder: test_matching.py)


def test_no_candidates_no_portrait():
    with pytest.raises(NoPortraitAvailable):
        catalog.choose([], VISIT_IDS[0], {"gender": "female", "ageBand": "adult"}, [])


def test_gender_is_preferred_with_any_as_a_match():
    candidates = [portrait("her", "female"), portrait("him", "male"), portrait("anyone", "any")]
    picks = {catalog.choose(candidates, v, {"gender": "female"})[0]["portraitId"] for v in VISIT_IDS}
    assert picks == {"her", "anyone"}
    picks = {catalog.choose(candidates, v, {"gender": "male"})[0]["portraitId"] for v in VISIT_IDS}
    assert picks == {"him", "anyone"}


def test_age_band_is_preferred_within_the_gender():
    candidates = [
        portrait("young-her", "female", "young"),
        portrait("old-her", "female", "senior"),
        portrait("young-him", "male", "young"),
    ]
    for v in VISIT_IDS[:16]:
        assert catalog.choose(candidates, v, {"gender": "female", "ageBand": "young"}) == (
            candidates[0],
            "gender+ageBand",
        )
        assert catalog.choose(candidates, v, {"gender": "female", "ageBand": "senior"}) == (
            candidates[1],
            "gender+ageBand",
        )


def test_without_a_match_any_portrait_will_do():
    candidates = [portrait("him", "male", "adult"), portrait("other-him", "male", "senior")]
    chosen = [catalog.choose(candidates, v, {"gender": "female", "ageBand": "young"}) for v in VISIT_IDS]
    assert {p["portraitId"] for p, _ in chosen} == {"him", "other-him"}
    assert {rung for _, rung in chosen} == {"theme"}


def test_without_face_attributes_every_portrait_is_possible():
    candidates = [portrait(p, g) for p, g in (("a", "female"), ("b", "male"), ("c", "any"), ("d", None))]
    chosen = [catalog.choose(candidates, v, {}) for v in VISIT_IDS]
    assert {p["portraitId"] for p, _ in chosen} == {"a", "b", "c", "d"}
    assert {rung for _, rung in chosen} == {"theme"}


def test_the_last_portrait_of_the_display_is_avoided():
    candidates = [portrait("a"), portrait("b"), portrait("c")]
    picks = {catalog.choose(candidates, v, {}, ["b"])[0]["portraitId"] for v in VISIT_IDS}
    assert picks == {"a", "c"}


def test_the_least_recently_shown_match_when_every_portrait_was_shown_recently():
    candidates = [portrait("her", "female"), portrait("him", "male"), portrait("her-too", "female")]
    # Newest first: "her" was shown last, "her-too" before "him".
    for v in VISIT_IDS[:16]:
        assert catalog.choose(candidates, v, {"gender": "female"}, ["her", "him", "her-too", "her"]) == (
            candidates[2],
            "gender",
        )
        assert catalog.choose(candidates, v, {"gender": "male"}, ["her", "him", "her-too"]) == (candidates[1], "gender")


def test_the_choice_is_stable_for_a_visit_id():
    candidates = [portrait(f"p{n}") for n in range(7)]
    for v in VISIT_IDS[:16]:
        first = catalog.choose(candidates, v, {})
        shuffled = candidates[:]
        random.Random(v).shuffle(shuffled)
        assert catalog.choose(shuffled, v, {}) == first
    # ...and spread over the catalog across visits.
    assert len({catalog.choose(candidates, v, {})[0]["portraitId"] for v in VISIT_IDS}) == 7


# ---------------------------------------------------------------- the tables


@pytest.fixture
def tables(aws_env):
    with mock_aws():
        ddb = boto3.session.Session(region_name=REGION).resource("dynamodb")
        cat = create_catalog_table(ddb)
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


def test_last_portraits_are_the_latest_finished_visits_of_the_display_newest_first(tables):
    _, visits = tables
    assert catalog.last_portraits(visits, "3") == []
    _visit(visits, 1, "3", "DONE", "old")
    _visit(visits, 2, "3", "DONE", "latest")
    _visit(visits, 3, "3", "PROCESSING")
    _visit(visits, 4, "3", "FAILED", "never-shown")
    _visit(visits, 5, "4", "DONE", "other-display")
    assert catalog.last_portraits(visits, "3") == ["latest", "old"]
    assert catalog.last_portraits(visits, "3", 1) == ["latest"]
    assert catalog.last_portraits(visits, "4") == ["other-display"]


def test_last_portraits_reads_past_refused_visits_up_to_k(tables):
    _, visits = tables
    # 10 shown portraits, each followed by 3 rejected visits: more than one page of the index.
    n = 0
    for shown in range(10):
        n += 1
        _visit(visits, n, "5", "DONE", f"p{shown}")
        for _ in range(3):
            n += 1
            _visit(visits, n, "5", "REJECTED")
    assert catalog.last_portraits(visits, "5") == ["p9", "p8", "p7", "p6", "p5", "p4"]
    assert catalog.last_portraits(visits, "5", 2) == ["p9", "p8"]


def _processing(visits, visit_id: str, face: dict, language: str | None = None, display: str = "3") -> dict:
    """A visit being processed whose crop step found `face` (CropFace's gender, ageRange and
    skinTone)."""
    item = {
        "visitId": visit_id,
        "displayId": display,
        "theme": "painting",
        "status": "PROCESSING",
        "createdAt": "2026-11-24T15:00:00.000Z",
    }
    if language:
        item["language"] = language
    visits.put_item(Item=item)
    assert catalog.remember_traits(visits, visit_id, catalog.face_traits(face))
    return {"visitId": visit_id, "displayId": display, "theme": "painting"}


def test_choose_portrait_avoids_what_the_display_showed_last(tables):
    cat, visits = tables
    for pid in ("a", "b"):
        cat.put_item(Item=portrait(pid, "female", "young"))
    visit = _processing(visits, "f" * 32, {"gender": "female", "ageRange": {"low": 22, "high": 30}})
    first = catalog.choose_portrait(cat, visits, visit)
    assert set(first) == {"portraitId", "key", "title", "story", "audioKey"}
    _visit(visits, 9, "3", "DONE", first["portraitId"])
    second = catalog.choose_portrait(cat, visits, visit)
    assert {first["portraitId"], second["portraitId"]} == {"a", "b"}
    assert second["key"] == f"catalog/painting/{second['portraitId']}.jpg"


def test_choose_portrait_matches_rekognitions_gender_value(tables):
    cat, visits = tables
    cat.put_item(Item=portrait("her", "female", None))
    cat.put_item(Item=portrait("him", "male", None))
    cat.put_item(Item=portrait("anyone", "any", None))
    face = {"gender": "Female"}  # crop.crop_face: face["Gender"]["Value"]
    picks = {catalog.choose_portrait(cat, visits, _processing(visits, v, face))["portraitId"] for v in VISIT_IDS[:24]}
    assert picks == {"her", "anyone"}


def test_face_traits_keep_a_band_and_a_tone_not_the_estimated_ages():
    traits = catalog.face_traits({"gender": "Female", "ageRange": {"low": 29, "high": 37}, "skinTone": "tan"})
    assert traits == {"gender": "female", "ageBand": "young", "skinTone": "tan"}
    assert catalog.face_traits({}) == {}
    # Only a group of the measure is a tone; anything else is no tone, not a guess.
    assert catalog.face_traits({"skinTone": "olive"}) == {}
    assert catalog.face_traits({"skinTone": None}) == {}


def test_traits_are_kept_on_the_visit_item_only_while_it_is_processed(tables):
    _, visits = tables
    _processing(visits, "a" * 32, {"gender": "male", "ageRange": {"low": 61, "high": 70}, "skinTone": "brown"})
    assert catalog.visit_facts(visits, "a" * 32)[0] == {"gender": "male", "ageBand": "senior", "skinTone": "brown"}
    # A deleted visit is not written again, nor is a finished one.
    assert catalog.remember_traits(visits, "b" * 32, {"gender": "male"}) is False
    assert visits.get_item(Key={"visitId": "b" * 32}).get("Item") is None
    _visit(visits, 12, "3", "FAILED")
    assert catalog.remember_traits(visits, f"{12:032x}", {"gender": "male"}) is False
    assert catalog.visit_facts(visits, f"{12:032x}")[0] == {}


def test_a_portrait_without_title_or_story_gets_empty_ones_and_one_without_an_image_is_never_chosen(tables):
    cat, visits = tables
    cat.put_item(
        Item={"theme": "painting", "portraitId": "bare", "key": "catalog/painting/bare.jpg", "status": "APPROVED"}
    )
    cat.put_item(Item={"theme": "painting", "portraitId": "no-image", "title": "T", "story": "S", "status": "APPROVED"})
    for v in VISIT_IDS[:16]:
        chosen = catalog.choose_portrait(cat, visits, {"visitId": v, "displayId": "3", "theme": "painting"})
        assert chosen == {
            "portraitId": "bare",
            "key": "catalog/painting/bare.jpg",
            "title": "",
            "story": "",
            "audioKey": "",
        }
    cat.delete_item(Key={"theme": "painting", "portraitId": "bare"})
    with pytest.raises(NoPortraitAvailable):
        catalog.choose_portrait(cat, visits, {"visitId": "c" * 32, "displayId": "3", "theme": "painting"})


# ---------------------------------------------------------------- the visit's language

BILINGUAL = {
    "titleKo": "피렌체의 리사",
    "storyKo": "피렌체에서 당신은 화가 앞에 앉았습니다.",
    "titleEn": "Lisa of Florence",
    "storyEn": "In Florence you sat for a painter.",
    "audioKo": "catalog/painting/lisa.ko.mp3",
    "audioEn": "catalog/painting/lisa.en.mp3",
}


@pytest.mark.parametrize(
    "language,expected",
    [
        ("en", ("Lisa of Florence", "In Florence you sat for a painter.", "catalog/painting/lisa.en.mp3")),
        ("ko", ("피렌체의 리사", "피렌체에서 당신은 화가 앞에 앉았습니다.", "catalog/painting/lisa.ko.mp3")),
        (None, ("피렌체의 리사", "피렌체에서 당신은 화가 앞에 앉았습니다.", "catalog/painting/lisa.ko.mp3")),
        ("fr", ("피렌체의 리사", "피렌체에서 당신은 화가 앞에 앉았습니다.", "catalog/painting/lisa.ko.mp3")),
    ],
)
def test_title_story_and_audio_are_in_the_visits_language(tables, language, expected):
    cat, visits = tables
    assert catalog_items.DEFAULT_LANGUAGE == "ko"
    cat.put_item(Item={"theme": "painting", "portraitId": "lisa", "key": "catalog/painting/lisa.png",
                       "status": "APPROVED", "gender": "female", **BILINGUAL})  # fmt: skip
    visit = _processing(visits, "d" * 32, {"gender": "female"}, language)
    chosen = catalog.choose_portrait(cat, visits, visit)
    assert (chosen["title"], chosen["story"], chosen["audioKey"]) == expected
    stored = visits.get_item(Key={"visitId": "d" * 32})["Item"]
    assert stored["match"]["language"] == (language if language in ("ko", "en") else "ko")


def test_an_old_item_with_one_title_and_no_audio_is_shown_in_any_language(tables):
    cat, visits = tables
    cat.put_item(Item=portrait("old", "female", "adult"))
    visit = _processing(visits, "e" * 32, {"gender": "female"}, "en")
    chosen = catalog.choose_portrait(cat, visits, visit)
    assert (chosen["title"], chosen["story"], chosen["audioKey"]) == ("Old", "The story of old.", "")


# ---------------------------------------------------------------- the match, on the visit item only


def test_the_match_is_written_to_the_visit_item_and_not_returned(tables):
    cat, visits = tables
    cat.put_item(Item=portrait("her-tan", "female", "senior", skinTone="tan", **BILINGUAL))
    cat.put_item(Item=portrait("her-dark", "female", "young", skinTone="dark"))
    cat.put_item(Item=portrait("him-tan", "male", "young", skinTone="tan"))
    face = {"gender": "Female", "ageRange": {"low": 20, "high": 26}, "skinTone": "tan"}
    visit = _processing(visits, "9" * 32, face, "en")
    chosen = catalog.choose_portrait(cat, visits, visit)
    # Skin tone beats the age band: the tan woman of another age, not the young dark one.
    assert chosen == {
        "portraitId": "her-tan",
        "key": "catalog/painting/her-tan.jpg",
        "title": "Lisa of Florence",
        "story": "In Florence you sat for a painter.",
        "audioKey": "catalog/painting/lisa.en.mp3",
    }
    stored = visits.get_item(Key={"visitId": "9" * 32})["Item"]
    assert stored["match"] == {
        "rung": "gender+skinTone",
        "gender": "female",
        "ageBand": "senior",
        "skinTone": "tan",
        "language": "en",
    }
    # The state gets the portrait (the equality above) and nothing of the match: the rung with the
    # portrait's gender would tell the visitor's gender to execution history.
    assert not {"match", "rung", "gender", "skinTone", "ageBand"} & set(chosen)


def test_no_match_is_written_to_a_visit_that_is_no_longer_processed(tables):
    cat, visits = tables
    cat.put_item(Item=portrait("p", "female"))
    _visit(visits, 20, "3", "DONE", "p")
    chosen = catalog.choose_portrait(cat, visits, {"visitId": f"{20:032x}", "displayId": "3", "theme": "painting"})
    assert chosen["portraitId"] == "p"
    assert "match" not in visits.get_item(Key={"visitId": f"{20:032x}"})["Item"]
    assert catalog.remember_match(visits, "0" * 31 + "x", {"rung": "theme"}) is False
    assert visits.get_item(Key={"visitId": "0" * 31 + "x"}).get("Item") is None


def test_a_retried_choice_is_the_same_portrait(tables):
    cat, visits = tables
    for n in range(9):
        cat.put_item(Item=portrait(f"p{n}", "female" if n % 2 else "male", "adult", skinTone="light"))
    visit = _processing(visits, "7" * 32, {"gender": "male", "skinTone": "light"})
    first = catalog.choose_portrait(cat, visits, visit)
    stored = visits.get_item(Key={"visitId": "7" * 32})["Item"]["match"]
    assert catalog.choose_portrait(cat, visits, visit) == first
    assert visits.get_item(Key={"visitId": "7" * 32})["Item"]["match"] == stored == {
        "rung": "gender+skinTone", "gender": "male", "ageBand": "adult", "skinTone": "light", "language": "ko",
    }  # fmt: skip
