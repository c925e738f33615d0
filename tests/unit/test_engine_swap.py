"""The real swap: identity moves to the portrait, nothing outside the face changes.

On the bundled demo pictures (every clone has them). Each swap is checked three ways, so that an
engine that returns the portrait unchanged, pastes the wrong face or touches the rest of the
picture fails: every pixel outside the portrait's face region is the portrait's, the face region
changed by a meaningful amount, and the result's face is closer (dlib's embedding, as
bench/swap_quality.py measures) to the visitor than to the portrait and to another person."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from _engine_path import Identity, bundled_photo, bundled_portrait, distance, resized, side_by_side

from face_engine import pipeline
from face_engine.detect import detect_faces
from face_engine.mesh import face_region_mask

# Mean change (0-255 levels) over the face region that a swap makes at the least; the measured
# swaps of these pictures change it by 16-22.
FACE_CHANGED = 5.0


@pytest.fixture(scope="module")
def ident() -> Identity:
    return Identity()


@pytest.fixture(scope="module")
def mona() -> np.ndarray:
    return bundled_portrait("mona-lisa.jpg")


@pytest.fixture(scope="module")
def obama() -> np.ndarray:
    return bundled_photo("visitor-a.jpg")


@pytest.fixture(scope="module")
def biden() -> np.ndarray:
    return bundled_photo("visitor-b.jpg")


def region_of(rgb: np.ndarray, face: int = 0) -> np.ndarray:
    return face_region_mask(detect_faces(rgb)[face].mesh, rgb.shape[:2])


def assert_swapped(
    ident: Identity, out: np.ndarray, portrait: np.ndarray, region: np.ndarray, visitor: np.ndarray, other: np.ndarray
) -> None:
    """`out` is `portrait` with `visitor`'s face in `region` and nothing else changed; `other` is
    someone else, whom the face must not look more like."""
    assert out.shape == portrait.shape and out.dtype == np.uint8
    assert np.array_equal(out[~region], portrait[~region]), "pixels outside the face region changed"
    changed = np.abs(out[region].astype(int) - portrait[region]).mean()
    assert changed > FACE_CHANGED, f"the face region changed by {changed:.1f} levels: nothing was swapped"
    e_out = ident.embed(out)
    assert e_out is not None, "no face in the result"
    d_visitor = distance(e_out, ident.embed(visitor))
    d_portrait = distance(e_out, ident.embed(portrait))
    d_other = distance(e_out, ident.embed(other))
    assert d_visitor < 0.6, f"the result is {d_visitor:.2f} from the visitor: not the visitor's face"
    assert d_visitor < d_portrait, f"closer to the portrait ({d_portrait:.2f}) than to the visitor ({d_visitor:.2f})"
    assert d_visitor < d_other, f"closer to someone else ({d_other:.2f}) than to the visitor ({d_visitor:.2f})"


@pytest.mark.parametrize("theme", pipeline.THEMES)
def test_swap_and_restore_leave_outside_pixels_unchanged(
    ident: Identity, mona: np.ndarray, obama: np.ndarray, biden: np.ndarray, theme: str
) -> None:
    out, timings, _ = pipeline.swap_images(obama, mona, theme)
    assert {"detect", "warp", "colour", "blend"} <= timings.keys()
    region = region_of(mona)
    assert_swapped(ident, out, mona, region, obama, biden)
    # Restore both ways: with the swap's mesh hint (as the server passes it
    # inside the PNG) and finding the face again.
    _, _, mesh = pipeline.swap_images(obama, mona, theme)
    for hint in (mesh, None):
        restored, rt = pipeline.restore_image(out, theme, hint)
        assert {"restore", "harmonise"} <= rt.keys()
        assert ("detect" in rt) == (hint is None)
        assert np.array_equal(restored[~region], mona[~region])
        assert not np.array_equal(restored[region], out[region])


def test_swap_carries_the_visitors_identity(
    ident: Identity, mona: np.ndarray, obama: np.ndarray, biden: np.ndarray
) -> None:
    for visitor, other in ((obama, biden), (biden, obama)):
        out, _, _ = pipeline.swap_images(visitor, mona, "realistic")
        out, _ = pipeline.restore_image(out, "realistic")
        e_out, e_vis, e_por, e_other = (ident.embed(x) for x in (out, visitor, mona, other))
        assert e_out is not None
        d_vis = distance(e_out, e_vis)
        assert d_vis < 0.6, f"result is {d_vis:.2f} from the visitor"
        assert distance(e_out, e_por) > 0.6, "still looks like the portrait"
        assert d_vis < distance(e_out, e_other), "closer to another visitor than to the right one"


def test_largest_portrait_face_is_swapped_and_the_other_untouched(
    ident: Identity, obama: np.ndarray, biden: np.ndarray
) -> None:
    # A group portrait: two women side by side, the one on the right further away.
    group = side_by_side(bundled_photo("visitor-e.jpg"), resized(bundled_photo("visitor-d.jpg"), 0.8))
    faces = detect_faces(group)
    assert len(faces) == 2
    big, small = faces
    assert big.face_width > small.face_width and big.box[0] < small.box[0]
    out, _, _ = pipeline.swap_images(obama, group, "realistic")
    big_region = face_region_mask(big.mesh, group.shape[:2])
    small_region = face_region_mask(small.mesh, group.shape[:2])
    assert_swapped(ident, out, group, big_region, obama, biden)
    assert np.array_equal(out[small_region], group[small_region])


def test_small_visitor_face_is_upscaled_not_refused(
    ident: Identity, mona: np.ndarray, obama: np.ndarray, biden: np.ndarray
) -> None:
    # The bundled photo at 0.456: its face about 110 px wide, as in the shared obama_small.jpg.
    small = resized(obama, 0.456)
    assert detect_faces(small)[0].face_width < 0.7 * detect_faces(mona)[0].face_width  # it is enlarged
    out, _, _ = pipeline.swap_images(small, mona, "realistic")
    assert_swapped(ident, out, mona, region_of(mona), obama, biden)


def test_unknown_theme_is_a_value_error(mona: np.ndarray, obama: np.ndarray) -> None:
    with pytest.raises(ValueError, match="theme"):
        pipeline.swap_images(obama, mona, "cubism")
    with pytest.raises(ValueError, match="theme"):
        pipeline.restore_image(mona, "cubism")


def test_restore_without_a_face_returns_the_image_unchanged() -> None:
    blank = np.full((200, 300, 3), 90, np.uint8)
    out, _ = pipeline.restore_image(blank, "painting")
    assert np.array_equal(out, blank)


def test_face_cut_off_by_the_photo_is_completed_from_its_other_half(
    ident: Identity, mona: np.ndarray, obama: np.ndarray, biden: np.ndarray
) -> None:
    # The photo's right 491 columns (the shared obama_partial_face.jpg is this crop).
    visitor = np.ascontiguousarray(obama[:, 419:])
    face = detect_faces(visitor)[0]
    assert face.mesh[:, 0].min() < 0  # the photo really cuts the face
    out, _, _ = pipeline.swap_images(visitor, mona, "realistic")
    m = detect_faces(mona)[0].mesh
    # Both halves of the portrait's face were replaced, not just the visible one.
    for side in (m[[33, 133, 145]], m[[263, 362, 374]]):
        x0, y0 = side[:, :2].min(0).astype(int) - 3
        x1, y1 = side[:, :2].max(0).astype(int) + 4
        assert np.abs(out[y0:y1, x0:x1].astype(int) - mona[y0:y1, x0:x1]).mean() > 8
    assert_swapped(ident, out, mona, region_of(mona), obama, biden)


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
    plain = colour.match(visitor, portrait, skin, skin, sigma=4.0)
    mixed = colour.match(visitor, portrait, skin, skin, sigma=4.0, inner=inner, inner_sigma=16.0)
    # Where unweighted, the two differ only by the face's colour alignment
    # (a smooth offset), never in the shading detail the inner field keeps.
    diff = mixed.astype(np.float32) - plain.astype(np.float32)
    detail = diff - cv2.GaussianBlur(diff, (0, 0), 6.0)
    assert np.abs(detail[:, :40]).mean() < 0.6
    assert np.abs(detail[:, 56:]).mean() > 2 * np.abs(detail[:, :40]).mean() + 0.5
