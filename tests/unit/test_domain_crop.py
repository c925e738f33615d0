"""gallery.crop.padded_box: the face box grown by half its size on each side, in pixels."""

from __future__ import annotations

import pytest

from gallery import crop


def face(left: float, top: float, width: float, height: float) -> dict:
    return {"BoundingBox": {"Left": left, "Top": top, "Width": width, "Height": height}, "Confidence": 99.9}


def test_padding_is_half_the_face_on_each_side():
    assert crop.PADDING == 0.5
    # 1000 x 800 photo, face at x 400..600, y 200..400 (200 x 200 px).
    assert crop.padded_box(face(0.4, 0.25, 0.2, 0.25), 1000, 800) == (300, 100, 700, 500)


def test_the_padded_box_is_twice_the_face_when_not_clipped():
    left, top, right, bottom = crop.padded_box(face(0.3, 0.3, 0.25, 0.2), 1600, 1200)
    # face 400 x 240 px at (480, 360)
    assert (left, top, right, bottom) == (280, 240, 1080, 720)
    assert (right - left, bottom - top) == (2 * 400, 2 * 240)


def test_clipped_at_the_top_left_corner():
    # face 200 x 200 px at (50, 16): padding would start at (-50, -84)
    assert crop.padded_box(face(0.05, 0.02, 0.2, 0.25), 1000, 800) == (0, 0, 350, 316)


def test_clipped_at_the_bottom_right_corner():
    # face 150 x 160 px at (850, 640): padding would end at (1075, 880)
    assert crop.padded_box(face(0.85, 0.8, 0.15, 0.2), 1000, 800) == (775, 560, 1000, 800)


def test_a_box_reaching_outside_the_photo_is_clipped():
    # Rekognition reports boxes partly outside the image with negative or > 1 coordinates.
    assert crop.padded_box(face(-0.05, -0.1, 0.5, 0.6), 1000, 1000) == (0, 0, 700, 800)
    assert crop.padded_box(face(0.8, 0.7, 0.4, 0.5), 1000, 1000) == (600, 450, 1000, 1000)


def test_a_face_filling_the_photo_gives_the_whole_photo():
    assert crop.padded_box(face(0.0, 0.0, 1.0, 1.0), 640, 480) == (0, 0, 640, 480)


@pytest.mark.parametrize(
    "padding,expected", [(0.0, (400, 200, 600, 400)), (0.25, (350, 150, 650, 450)), (1.0, (200, 0, 800, 600))]
)
def test_other_paddings(padding, expected):
    assert crop.padded_box(face(0.4, 0.25, 0.2, 0.25), 1000, 800, padding) == expected


def test_fractional_pixels_are_rounded_to_whole_pixels():
    # x 335.63, w 111.88, y 142.43, h 94.93 px
    box = crop.padded_box(face(0.3333, 0.2222, 0.1111, 0.1481), 1007, 641)
    assert box == (280, 95, 503, 285)  # 279.69, 94.96, 503.45, 284.83 rounded
    assert all(isinstance(v, int) for v in box)
