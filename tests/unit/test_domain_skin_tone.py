"""Skin tone (gallery.skin_tone): ITA° on images of known CIELAB colour, greyscale, and a real photo."""

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from gallery import skin_tone

DEMO = Path(__file__).resolve().parents[2] / "local/gallery_local/demo/photos"


def _exact_ita(rgb: tuple[int, int, int]) -> float:
    """ITA of the sRGB colour actually written (8-bit rounding moves Lab a little)."""
    L, _, b = skin_tone.srgb_to_lab(np.array(rgb, dtype=np.uint8))  # noqa: N806
    return math.degrees(math.atan((L - 50) / b))


@pytest.mark.parametrize(
    ("lab", "group"),
    [
        ((80.0, 8.0, 14.0), 1),  # ITA 65.0
        ((70.0, 10.0, 20.0), 2),  # ITA 45.0
        ((62.0, 12.0, 18.0), 3),  # ITA 33.7
        ((56.0, 13.0, 22.0), 4),  # ITA 15.3
        ((45.0, 14.0, 20.0), 5),  # ITA -14.0
        ((30.0, 12.0, 14.0), 6),  # ITA -55.0
    ],
)
def test_uniform_colour_gives_its_exact_ita(lab: tuple, group: int) -> None:
    rgb = skin_tone.lab_to_srgb(lab)
    result = skin_tone.estimate(Image.new("RGB", (300, 300), rgb))
    designed = math.degrees(math.atan((lab[0] - 50) / lab[2]))
    assert result["ita"] == pytest.approx(_exact_ita(rgb), abs=0.05)
    assert result["ita"] == pytest.approx(designed, abs=1.0)
    assert result["group"] == group
    assert result["group_name"] == skin_tone.GROUPS[group - 1]


def test_eyes_hair_background_and_highlights_are_left_out() -> None:
    """A drawn face: skin in the sampled patches, but with hair over part of the forehead, a
    specular spot on a cheek, dark eyes and a blue background. Only the skin may count."""
    skin = skin_tone.lab_to_srgb((62.0, 14.0, 20.0))
    img = Image.new("RGB", (400, 400), (40, 80, 200))
    d = ImageDraw.Draw(img)
    box = (100, 80, 300, 320)
    d.ellipse(box, fill=skin)
    d.rectangle((100, 80, 300, 110), fill=skin_tone.lab_to_srgb((20.0, 5.0, 10.0)))  # hair
    d.ellipse((135, 150, 175, 170), fill=(30, 20, 15))  # eyes
    d.ellipse((225, 150, 265, 170), fill=(30, 20, 15))
    d.ellipse((140, 205, 150, 215), fill=(255, 255, 255))  # highlight on the left cheek
    landmarks = {"eyeLeft": (155, 160), "eyeRight": (245, 160)}
    for lm in (landmarks, None):
        result = skin_tone.estimate(img, box, lm)
        assert result["ita"] == pytest.approx(_exact_ita(skin), abs=0.05)
        assert result["group"] == 3


def test_ita_group_edges() -> None:
    assert skin_tone.group_of(55.1)[0] == 1
    assert skin_tone.group_of(55.0)[0] == 2
    assert skin_tone.group_of(28.0)[0] == 4
    assert skin_tone.group_of(-30.0)[0] == 6
    assert skin_tone.group_of(-29.9)[0] == 5


def test_greyscale_photo_has_no_tone() -> None:
    grey = Image.open(DEMO / "visitor-c.jpg").convert("L")
    result = skin_tone.estimate(grey, (170, 290, 438, 557), {"eyeLeft": (252, 372), "eyeRight": (370, 384)})
    assert result["ita"] is None
    assert result["group"] is None
    assert result["confidence"] == "none"
    assert result["reason"] == "monochrome"


def test_real_photo() -> None:
    """The bundled visitor-c photo; face box and eyes as dlib's detector and 68-point model find them."""
    img = Image.open(DEMO / "visitor-c.jpg")
    result = skin_tone.estimate(img, (170, 290, 438, 557), {"eyeLeft": (252, 372), "eyeRight": (370, 384)})
    assert 38.0 < result["ita"] < 47.0, result
    assert result["group"] in (2, 3)
    assert result["pixels"] > skin_tone.MIN_PIXELS
    assert 0.5 < result["kept"] <= 1.0
    # The same photo cropped as crop.crop_face does (face in the centre half), without a box.
    left, top, right, bottom = 170, 290, 438, 557
    w, h = right - left, bottom - top
    crop = img.crop((left - w // 2, top - h // 2, right + w // 2, bottom + h // 2))
    assert 30.0 < skin_tone.estimate(crop)["ita"] < 47.0
