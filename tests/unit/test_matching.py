"""Matching a visitor to a catalog portrait: the ladder (gender, skin tone, age band, then the
theme alone), no repeat of a display's last K portraits, and the skin tone measured on a real
face crop."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gallery import catalog, catalog_plan, crop, skin_tone

VISIT_IDS = [f"{n:032x}" for n in range(0, 2**128, 2**128 // 64)][:64]
DEMO_PHOTOS = Path(__file__).resolve().parents[2] / "local/gallery_local/demo/photos"


def item(pid: str, gender: str | None, tone: str | None, band: str | None) -> dict:
    p = {"theme": "painting", "portraitId": pid, "key": f"catalog/painting/{pid}.png", "status": "APPROVED"}
    for field, value in (("gender", gender), ("skinTone", tone), ("ageBand", band)):
        if value:
            p[field] = value
    return p


def plan_items(limit: int | None = None) -> list[dict]:
    """A catalog as the generation makes it (catalog_generation: age -> ageBand)."""
    return [
        item(i.portrait_id, i.dimensions["gender"], i.dimensions["skinTone"], i.dimensions["age"])
        for i in catalog_plan.plan("painting", limit)
    ]


def visitor(gender: str | None, tone: str | None, band: str | None) -> dict:
    return {k: v for k, v in (("gender", gender), ("skinTone", tone), ("ageBand", band)) if v}


SHE = visitor("female", "tan", "young")

# ---------------------------------------------------------------- the ladder


def test_the_rungs_in_order():
    assert catalog.RUNGS == (
        "gender+skinTone+ageBand",
        "gender+skinTone",
        "gender+ageBand",
        "gender",
        "skinTone+ageBand",
        "skinTone",
        "ageBand",
        "theme",
    )


@pytest.mark.parametrize(
    "portrait,rung",
    [
        (("female", "tan", "young"), "gender+skinTone+ageBand"),
        (("female", "tan", "senior"), "gender+skinTone"),
        (("female", "dark", "young"), "gender+ageBand"),
        (("female", "dark", "senior"), "gender"),
        (("male", "tan", "young"), "skinTone+ageBand"),
        (("male", "tan", "senior"), "skinTone"),
        (("male", "dark", "young"), "ageBand"),
        (("male", "dark", "senior"), "theme"),
    ],
)
def test_each_rung_names_what_matched(portrait, rung):
    only = item("only", *portrait)
    assert catalog.choose([only], VISIT_IDS[0], SHE, []) == (only, rung)


@pytest.mark.parametrize("rung", range(8))
def test_the_best_rung_with_a_portrait_wins(rung):
    # One portrait per rung; the visitor gets the one of the best rung still present.
    attrs = list(itertools.product(("female", "male"), ("tan", "dark"), ("young", "senior")))
    candidates = [item(f"r{n}", *a) for n, a in enumerate(attrs)]
    for v in VISIT_IDS[:8]:
        assert catalog.choose(candidates[rung:], v, SHE, []) == (candidates[rung], catalog.RUNGS[rung])


def test_skin_tone_beats_the_age_band():
    same_age = item("same-age", "female", "dark", "young")
    same_tone = item("same-tone", "female", "tan", "adult")
    for v in VISIT_IDS:
        assert catalog.choose([same_age, same_tone], v, SHE, []) == (same_tone, "gender+skinTone")


def test_gender_beats_skin_tone_and_age_band():
    him = item("him", "male", "tan", "young")
    her = item("her", "female", "very light", "senior")
    for v in VISIT_IDS:
        assert catalog.choose([him, her], v, SHE, []) == (her, "gender")
        assert catalog.choose([him, her], v, visitor("male", "dark", "senior"), []) == (him, "gender")


@pytest.mark.parametrize("limit", [24, None])
def test_a_man_and_a_woman_each_get_their_own_gender_from_a_generated_catalog(limit):
    candidates = plan_items(limit)
    for gender, tone, band in itertools.product(("female", "male"), skin_tone.GROUPS, ("young", "adult", "senior")):
        for v in VISIT_IDS[:4]:
            chosen, rung = catalog.choose(candidates, v, visitor(gender, tone, band), [])
            assert chosen["gender"] == gender and rung.startswith("gender"), (gender, tone, band)


def test_the_full_plan_matches_every_visitor_on_all_three():
    candidates = plan_items()
    assert len(candidates) == 72  # 2 genders x 6 tones x 3 bands, twice
    for gender, tone, band in itertools.product(("female", "male"), skin_tone.GROUPS, ("young", "adult", "senior")):
        want = visitor(gender, tone, band)
        picks = set()
        for v in VISIT_IDS:
            chosen, rung = catalog.choose(candidates, v, want, [])
            assert rung == "gender+skinTone+ageBand"
            assert (chosen["gender"], chosen["skinTone"], chosen["ageBand"]) == (gender, tone, band)
            picks.add(chosen["portraitId"])
        assert len(picks) == 2  # both variants of the cell are used


def test_a_visitor_without_a_skin_tone_is_matched_on_gender_and_age():
    # A greyscale photo: no tone. The rungs that need one are skipped, never guessed.
    candidates = [item("tan-adult", "female", "tan", "adult"), item("dark-young", "female", "dark", "young")]
    for v in VISIT_IDS:
        assert catalog.choose(candidates, v, visitor("female", None, "young"), []) == (
            candidates[1],
            "gender+ageBand",
        )


def test_a_portrait_without_a_skin_tone_is_unknown_not_excluded():
    old = item("old", "female", None, "young")  # a bundled item from before skin tones
    other_age = item("other-age", "female", "dark", "senior")
    for v in VISIT_IDS:
        assert catalog.choose([old, other_age], v, SHE, []) == (old, "gender+ageBand")
    # It matches no tone: a portrait of the visitor's tone wins over it.
    toned = item("toned", "female", "tan", "senior")
    for v in VISIT_IDS:
        assert catalog.choose([old, toned], v, SHE, []) == (toned, "gender+skinTone")


def test_any_is_a_match_for_everyone():
    anyone = item("anyone", "any", None, "young")
    assert catalog.choose([anyone], VISIT_IDS[0], SHE, []) == (anyone, "gender+ageBand")
    assert catalog.choose([anyone], VISIT_IDS[0], visitor("male", "dark", "young"), []) == (anyone, "gender+ageBand")


# ---------------------------------------------------------------- no repeat within K


def shown_on_one_display(candidates: list[dict], visitors: list[dict], k: int = catalog.NO_REPEAT) -> list[tuple]:
    recent: list[str] = []
    out = []
    for n, traits in enumerate(visitors):
        chosen, rung = catalog.choose(candidates, f"{n:032x}", traits, recent[:k])
        recent.insert(0, chosen["portraitId"])
        out.append((chosen["portraitId"], rung))
    return out


def test_no_portrait_again_within_the_last_k_of_a_display():
    assert catalog.NO_REPEAT == 6
    candidates = plan_items()
    # The same visitor again and again: their cell has 2 portraits, so the ladder steps down.
    shown = shown_on_one_display(candidates, [SHE] * 60)
    ids = [pid for pid, _ in shown]
    for n in range(len(ids)):
        assert ids[n] not in ids[max(0, n - catalog.NO_REPEAT) : n], n
    rungs = [rung for _, rung in shown[:9]]
    # The cell's two portraits, the four other women of her tone, a young woman of another tone
    # (all six of her tone were just shown), then the cell's first portrait again, 7 visits later.
    assert rungs == ["gender+skinTone+ageBand"] * 2 + ["gender+skinTone"] * 4 + [
        "gender+ageBand",
        "gender+skinTone+ageBand",
        "gender+skinTone+ageBand",
    ]
    assert ids[7] == ids[0] and ids[8] == ids[1]


def test_gender_is_never_given_up_to_avoid_a_repeat():
    a, b, c = item("a", "female", "tan", "young"), item("b", "female", "tan", "young"), item("c", "male", None, None)
    shown = shown_on_one_display([a, b, c], [SHE] * 6)
    # a/b, then the other, then repeats of the least recently shown woman's portrait: never c,
    # the man's portrait, although it was never shown.
    first = shown[0][0]
    second = "b" if first == "a" else "a"
    assert shown == [(first, "gender+skinTone+ageBand"), (second, "gender+skinTone+ageBand")] * 3


def test_without_a_known_gender_a_new_portrait_beats_a_repeat():
    a, b, c = item("a", "female", "tan", "young"), item("b", "female", "tan", "young"), item("c", "male", None, None)
    nobody = visitor(None, "tan", "young")
    shown = shown_on_one_display([a, b, c], [nobody] * 4)
    assert [pid for pid, _ in shown[:3]].count("c") == 1 and len({pid for pid, _ in shown[:3]}) == 3


def test_when_every_portrait_was_shown_recently_the_least_recently_shown_match():
    portraits = [item(pid, "female", "tan", "young") for pid in "abc"]
    shown = shown_on_one_display(portraits, [SHE] * 8, k=3)
    ids = [pid for pid, _ in shown]
    assert sorted(ids[:3]) == ["a", "b", "c"]
    assert ids[3:6] == ids[:3] and ids[6:8] == ids[:2]  # each time the least recently shown


def test_deterministic_for_a_visit_id_and_history():
    candidates = plan_items(24)
    recent = [p["portraitId"] for p in candidates[:6]]
    for v in VISIT_IDS:
        for traits in (SHE, visitor("male", "brown", "senior"), {}):
            assert catalog.choose(candidates, v, traits, recent) == catalog.choose(
                list(reversed(candidates)), v, traits, list(recent)
            )


# ---------------------------------------------------------------- skin tone from the face crop


@pytest.fixture(scope="module")
def engine_faces():
    """The local engine's DetectFaces answer (Rekognition's shape) for each bundled photo."""
    import tests.unit._engine_path  # noqa: F401  (puts the face engine on the path)
    from face_engine.rekognition import face_details

    out = {}
    for path in sorted(DEMO_PHOTOS.glob("*.jpg")):
        img = Image.open(path).convert("RGB")
        out[path.name] = (img, face_details(np.asarray(img))[0])
    return out


BUNDLED = ["visitor-a.jpg", "visitor-b.jpg", "visitor-c.jpg", "visitor-d.jpg", "visitor-e.jpg"]


def test_the_bundled_photos_are_there():
    assert sorted(p.name for p in DEMO_PHOTOS.glob("*.jpg")) == BUNDLED


@pytest.mark.parametrize("name", BUNDLED)
def test_a_face_crop_gives_a_skin_tone_group(engine_faces, name):
    img, face = engine_faces[name]
    box = crop.padded_box(face, img.width, img.height)
    tone = crop.skin_tone_of(img.crop(box), face, box, img.width, img.height)
    assert tone in skin_tone.GROUPS
    # It is the measure of the face's own box and eyes, moved into the crop.
    b = face["BoundingBox"]
    left, top = box[:2]
    eyes = {m["Type"]: (m["X"] * img.width - left, m["Y"] * img.height - top) for m in face["Landmarks"]}
    direct = skin_tone.estimate(
        img.crop(box),
        (b["Left"] * img.width - left, b["Top"] * img.height - top,
         (b["Left"] + b["Width"]) * img.width - left, (b["Top"] + b["Height"]) * img.height - top),
        {k: eyes[k] for k in ("eyeLeft", "eyeRight")},
    )  # fmt: skip
    assert direct["group_name"] == tone and direct["confidence"] in ("high", "medium")


@pytest.mark.parametrize("name", BUNDLED)
def test_a_greyscale_crop_gives_no_skin_tone(engine_faces, name):
    img, face = engine_faces[name]
    box = crop.padded_box(face, img.width, img.height)
    grey = img.crop(box).convert("L").convert("RGB")
    assert crop.skin_tone_of(grey, face, box, img.width, img.height) is None
    assert crop.skin_tone_of(img.crop(box).convert("L"), face, box, img.width, img.height) is None


def test_a_face_with_too_little_skin_gives_no_tone():
    # A uniformly blue "face": nothing skin-coloured to measure.
    img = Image.new("RGB", (400, 400), (40, 60, 200))
    face = {"BoundingBox": {"Left": 0.25, "Top": 0.25, "Width": 0.5, "Height": 0.5}}
    box = crop.padded_box(face, 400, 400)
    assert crop.skin_tone_of(img.crop(box), face, box, 400, 400) is None


def test_crop_face_keeps_the_tone_out_of_the_state_and_on_the_visit():
    # CropFace pops gender, ageRange and skinTone from its result into the visit's faceTraits.
    face = {"key": "faces/v.png", "faces": 1, "box": [0, 0, 1, 1], "gender": "male", "skinTone": "brown"}
    traits = catalog.face_traits({k: face.pop(k) for k in ("gender", "ageRange", "skinTone") if k in face})
    assert traits == {"gender": "male", "skinTone": "brown"}
    assert face == {"key": "faces/v.png", "faces": 1, "box": [0, 0, 1, 1]}


def test_a_large_crop_is_measured_on_a_reduced_copy_with_the_same_result(engine_faces):
    # A 40 MP photo's face crop is thousands of pixels a side: measured on a copy of at most
    # crop.SKIN_TONE_SIDE px, it gives the tone of the same face at the original size.
    img, face = engine_faces["visitor-a.jpg"]
    big = img.resize((img.width * 4, img.height * 4), Image.BICUBIC)
    box = crop.padded_box(face, big.width, big.height)
    assert max(box[2] - box[0], box[3] - box[1]) > 2 * crop.SKIN_TONE_SIDE  # really reduced
    small_box = crop.padded_box(face, img.width, img.height)
    assert crop.skin_tone_of(big.crop(box), face, box, big.width, big.height) == crop.skin_tone_of(
        img.crop(small_box), face, small_box, img.width, img.height
    )
