"""The real swap: identity moves to the portrait, nothing outside the face changes."""

from __future__ import annotations

import numpy as np
import pytest
from _engine_path import Identity, distance, photo, portrait

from face_engine import pipeline
from face_engine.detect import detect_faces
from face_engine.mesh import face_region_mask


@pytest.fixture(scope="module")
def ident() -> Identity:
    return Identity()


@pytest.fixture(scope="module")
def mona() -> np.ndarray:
    return portrait("mona_lisa.jpg")


@pytest.mark.parametrize("theme", pipeline.THEMES)
def test_swap_and_restore_leave_outside_pixels_unchanged(mona: np.ndarray, theme: str) -> None:
    visitor = photo("obama.jpg")
    out, timings = pipeline.swap(visitor, mona, theme)
    assert out.shape == mona.shape and out.dtype == np.uint8
    assert {"detect", "warp", "colour", "blend"} <= timings.keys()
    region = face_region_mask(detect_faces(mona)[0].mesh, mona.shape[:2])
    assert np.array_equal(out[~region], mona[~region])
    # The face itself really changed.
    assert np.abs(out[region].astype(int) - mona[region]).mean() > 5
    # Restore both ways: with the swap's mesh hint (as the server passes it
    # inside the PNG) and finding the face again.
    _, _, mesh = pipeline.swap_with_face(visitor, mona, theme)
    for hint in (mesh, None):
        restored, rt = pipeline.restore(out, theme, hint)
        assert {"restore", "harmonise"} <= rt.keys()
        assert ("detect" in rt) == (hint is None)
        assert np.array_equal(restored[~region], mona[~region])
        assert not np.array_equal(restored[region], out[region])


def test_swap_carries_the_visitors_identity(ident: Identity, mona: np.ndarray) -> None:
    for name, other in (("obama.jpg", "biden2.jpg"), ("biden2.jpg", "obama.jpg")):
        visitor = photo(name)
        out, _ = pipeline.swap(visitor, mona, "realistic")
        out, _ = pipeline.restore(out, "realistic")
        e_out, e_vis, e_por, e_other = (ident.embed(x) for x in (out, visitor, mona, photo(other)))
        assert e_out is not None
        d_vis = distance(e_out, e_vis)
        assert d_vis < 0.6, f"{name}: result is {d_vis:.2f} from the visitor"
        assert distance(e_out, e_por) > 0.6, "still looks like the portrait"
        assert d_vis < distance(e_out, e_other), "closer to another visitor than to the right one"


def test_largest_portrait_face_is_swapped_and_the_other_untouched() -> None:
    group = photo("two_people.jpg")
    faces = detect_faces(group)
    assert len(faces) == 2
    big, small = faces
    out, _ = pipeline.swap(photo("obama.jpg"), group, "realistic")
    big_region = face_region_mask(big.mesh, group.shape[:2])
    small_region = face_region_mask(small.mesh, group.shape[:2])
    assert not np.array_equal(out[big_region], group[big_region])
    assert np.array_equal(out[small_region & ~big_region], group[small_region & ~big_region])


def test_small_visitor_face_is_upscaled_not_refused(mona: np.ndarray) -> None:
    out, _ = pipeline.swap(photo("obama_small.jpg"), mona, "realistic")
    assert detect_faces(out)


def test_unknown_theme_is_a_value_error(mona: np.ndarray) -> None:
    with pytest.raises(ValueError, match="theme"):
        pipeline.swap(photo("obama.jpg"), mona, "cubism")
    with pytest.raises(ValueError, match="theme"):
        pipeline.restore(mona, "cubism")


def test_restore_without_a_face_returns_the_image_unchanged() -> None:
    blank = np.full((200, 300, 3), 90, np.uint8)
    out, _ = pipeline.restore(blank, "painting")
    assert np.array_equal(out, blank)


def test_face_cut_off_by_the_photo_is_completed_from_its_other_half(ident: Identity, mona: np.ndarray) -> None:
    visitor = photo("obama_partial_face.jpg")
    face = detect_faces(visitor)[0]
    assert face.mesh[:, 0].min() < 0  # the photo really cuts the face
    out, _ = pipeline.swap(visitor, mona, "realistic")
    m = detect_faces(mona)[0].mesh
    # Both halves of the portrait's face were replaced, not just the visible one.
    for side in (m[[33, 133, 145]], m[[263, 362, 374]]):
        x0, y0 = side[:, :2].min(0).astype(int) - 3
        x1, y1 = side[:, :2].max(0).astype(int) + 4
        assert np.abs(out[y0:y1, x0:x1].astype(int) - mona[y0:y1, x0:x1]).mean() > 8
    e_out = ident.embed(out)
    assert e_out is not None and distance(e_out, ident.embed(photo("obama.jpg"))) < 0.6


def test_colour_match_coarse_inner_field_acts_only_where_weighted() -> None:
    from face_engine import colour

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:96, 0:96].astype(np.float32)
    shade = (60 * np.sin(xx / 9.0) * np.cos(yy / 13.0))[..., None]
    visitor = np.clip(np.array([170, 120, 100], np.float32) + shade + rng.normal(0, 4, (96, 96, 3)), 0, 255)
    portrait = np.clip(np.array([200, 170, 140], np.float32) + xx[..., None] * 0.4, 0, 255)
    visitor, portrait = visitor.astype(np.uint8), portrait.astype(np.uint8)
    skin = np.ones((96, 96), bool)
    inner = np.zeros((96, 96), np.float32)
    inner[:, 48:] = 1.0
    plain = colour.match(visitor, portrait, skin, sigma=4.0)
    mixed = colour.match(visitor, portrait, skin, sigma=4.0, inner=inner, inner_sigma=16.0)
    assert np.array_equal(mixed[:, :48], plain[:, :48])
    assert np.abs(mixed[:, 56:].astype(int) - plain[:, 56:]).mean() > 1.0
