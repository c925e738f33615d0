"""How the swapped face looks: the portrait's colour, the visitor's tone, no lipstick left behind.

Runs on the demo's bundled photos and portraits (local/gallery_local/demo), so
it runs in a fresh clone too.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from _engine_path import ENGINE_DIR  # noqa: F401  (puts the engine on sys.path)
from PIL import Image

from face_engine import blend, colour, harmonise, pipeline
from face_engine import landmarks as lm
from face_engine import mesh as fm
from face_engine.detect import detect_faces

DEMO = Path(__file__).resolve().parents[2] / "local" / "gallery_local" / "demo"


def demo_image(kind: str, name: str) -> np.ndarray:
    im = Image.open(DEMO / kind / name).convert("RGB")
    if max(im.size) > 1024:
        s = 1024 / max(im.size)
        im = im.resize((round(im.width * s), round(im.height * s)), Image.LANCZOS)
    return np.asarray(im).copy()


def lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def test_a_tone_within_the_slack_takes_the_portraits_colour() -> None:
    portrait = np.array([60.0, 14.0, 18.0])  # ITA about 29
    visitor = np.array([55.0, 16.0, 20.0])  # ITA about 14: within TONE_SLACK
    assert np.array_equal(colour.tone_shift(visitor, portrait), np.zeros(3))


def test_a_tone_beyond_the_slack_keeps_part_of_the_visitors_own() -> None:
    portrait = np.array([70.0, 12.0, 16.0])  # light: ITA about 51
    visitor = np.array([38.0, 14.0, 18.0])  # brown: ITA about -34
    shift = colour.tone_shift(visitor, portrait)
    # Towards the visitor on every channel, and less than the whole way.
    d = visitor - portrait
    assert np.all(np.sign(shift) == np.sign(d))
    assert np.all(np.abs(shift) < np.abs(d))
    assert shift[0] < -10  # clearly darker than the portrait's skin


def test_a_monochrome_portrait_has_no_tone_to_keep() -> None:
    grey = np.array([70.0, 0.5, 1.0])
    assert np.array_equal(colour.tone_shift(np.array([38.0, 14.0, 18.0]), grey), np.zeros(3))


def test_match_moves_the_skin_to_the_portraits_colour() -> None:
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:96, 0:96].astype(np.float32)
    visitor = np.clip(
        np.array([190, 140, 120], np.float32) + 12 * np.sin(xx / 1.5)[..., None] + rng.normal(0, 3, (96, 96, 3)), 0, 255
    ).astype(np.uint8)
    portrait = np.clip(np.array([205, 160, 130], np.float32) + yy[..., None] * 0.2, 0, 255).astype(np.uint8)
    skin = np.ones((96, 96), bool)
    out = colour.match(visitor, portrait, skin, skin, sigma=8.0)
    d = np.median(lab(out).reshape(-1, 3), 0) - np.median(lab(portrait).reshape(-1, 3), 0)
    assert np.abs(d).max() < 1.0
    # The visitor's detail survives: the stripes are still there.
    detail = lambda img: np.std(lab(img)[..., 0] - cv2.GaussianBlur(lab(img)[..., 0], (0, 0), 8))  # noqa: E731
    assert detail(out) > 0.6 * detail(visitor)


def test_match_reads_the_skin_colour_where_tone_weight_says() -> None:
    """A face redder round its mouth than on its cheeks: the cheeks, where tone_weight reads, take
    the portrait's colour; matching the whole face's mean would leave them paler than the portrait."""
    rng = np.random.default_rng(2)
    visitor = np.clip(np.array([200, 150, 130], np.float32) + rng.normal(0, 2, (96, 96, 3)), 0, 255)
    visitor[48:, :, 0] += 30  # the lower face redder
    visitor = visitor.astype(np.uint8)
    portrait = np.full((96, 96, 3), (210, 160, 135), np.uint8)
    skin = np.ones((96, 96), bool)
    cheeks = np.zeros((96, 96), np.float32)
    cheeks[8:40] = 1.0
    want = lab(portrait)[8:40].reshape(-1, 3).mean(0)
    read = colour.match(visitor, portrait, skin, skin, sigma=200.0, tone_weight=cheeks)
    whole = colour.match(visitor, portrait, skin, skin, sigma=200.0)
    err = lambda img: float(np.linalg.norm(lab(img)[8:40].reshape(-1, 3).mean(0) - want))  # noqa: E731
    assert err(read) < 0.5
    assert err(whole) > 2 * err(read) + 1.0


def test_a_saturated_skin_keeps_its_colour_after_the_gamut_clip() -> None:
    """A drawn face's flat orange plus a visitor's strong detail leaves sRGB's gamut in places; the
    clip must not pull the mean skin colour towards grey (3.4 units off before the shift was
    measured again after the clip)."""
    rng = np.random.default_rng(3)
    xx = np.mgrid[0:96, 0:96][1].astype(np.float32)
    visitor = np.clip(
        np.array([190, 140, 120], np.float32) + 30 * np.sin(xx / 2.0)[..., None] + rng.normal(0, 4, (96, 96, 3)), 0, 255
    ).astype(np.uint8)
    portrait = np.full((96, 96, 3), (255, 196, 120), np.uint8)
    skin = np.ones((96, 96), bool)
    out = colour.match(visitor, portrait, skin, skin, sigma=200.0)
    mean = lambda img: lab(img).reshape(-1, 3).mean(0)  # noqa: E731
    assert np.linalg.norm(mean(out) - mean(portrait)) < 2.0


def test_a_visitors_shadow_keeps_its_share_of_the_light_on_a_darker_portrait() -> None:
    """A light photo's eye socket on a darker, textured portrait: a shadow takes a share of the
    light, so it keeps most of its lightness relative to the skin round it. Deepened by the same
    number of L units (and by the portrait's stronger texture on top), it kept about half and read
    near-black, or dark red with its chroma kept."""
    rng = np.random.default_rng(4)
    visitor = np.clip(np.array([200, 150, 120], np.float32) + rng.normal(0, 2, (96, 96, 3)), 0, 255)
    visitor[40:56, 40:56] *= 0.55  # a shadow
    visitor = visitor.astype(np.uint8)
    portrait = np.clip(np.array([160, 112, 85], np.float32) + rng.normal(0, 6, (96, 96, 1)), 0, 255).astype(np.uint8)
    skin = np.ones((96, 96), bool)
    visitor_skin = skin.copy()
    visitor_skin[40:56, 40:56] = False  # as the pipeline leaves out the eyes and brows
    out = colour.match(visitor, portrait, visitor_skin, skin, sigma=20.0)
    depth = lambda img: float(lab(img)[44:52, 44:52, 0].mean() / lab(img)[8:24, 8:24, 0].mean())  # noqa: E731
    assert depth(out) > 0.7 * depth(visitor)


@pytest.fixture(scope="module")
def lipstick_swap() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    portrait = demo_image("portraits", "kowalievska.jpg")  # bright pink lipstick
    visitor = demo_image("photos", "visitor-a.jpg")
    out, _, mesh = pipeline.swap_images(visitor, portrait, "realistic")
    return portrait, out, mesh


def test_none_of_the_portraits_lipstick_survives_round_the_mouth(lipstick_swap) -> None:
    portrait, out, mesh = lipstick_swap
    h, w = portrait.shape[:2]
    lips = fm.fill(mesh[lm.LIPS_OUTER, :2], (h, w)) > 0
    # Lipstick: far redder (a*) than any skin or natural lip in these images.
    magenta = lambda img: lab(img)[lips][:, 1] > 40  # noqa: E731
    assert magenta(portrait).mean() > 0.3  # the sample really wears it
    assert magenta(out).mean() < 0.03


def test_the_result_keeps_the_portraits_skin_colour_for_a_like_tone(lipstick_swap) -> None:
    portrait, out, mesh = lipstick_swap
    h, w = portrait.shape[:2]
    cheeks = np.zeros((h, w), bool)
    for idx in (lm.CHEEK_L_CORE, lm.CHEEK_R_CORE):
        cheeks |= fm.fill(mesh[idx, :2], (h, w)) > 0
    p, o = np.median(lab(portrait)[cheeks], 0), np.median(lab(out)[cheeks], 0)
    visitor = demo_image("photos", "visitor-a.jpg")
    v = np.median(lab(visitor)[_cheeks_of(visitor)], 0)
    if abs(colour.ita(v) - colour.ita(p)) <= colour.TONE_SLACK:
        assert np.linalg.norm(o - p) < 4.0
    else:
        # The visitor keeps part of their tone: the result lies between the two.
        assert np.linalg.norm(o - p) < np.linalg.norm(v - p)


def _cheeks_of(rgb: np.ndarray) -> np.ndarray:
    mesh = detect_faces(rgb)[0].mesh
    m = np.zeros(rgb.shape[:2], bool)
    for idx in (lm.CHEEK_L_CORE, lm.CHEEK_R_CORE):
        m |= fm.fill(mesh[idx, :2], rgb.shape[:2]) > 0
    return m


@pytest.mark.parametrize("skin", [(72.0, 9.0, 16.0), (55.0, 13.0, 20.0), (38.0, 12.0, 17.0)])
def test_the_engines_skin_tone_is_the_crop_steps(skin: tuple[float, float, float]) -> None:
    # The engine ships apart from the layer, so the angle and the monochrome
    # limit are written in both; this keeps them the same.
    from gallery import skin_tone

    assert colour.MONOCHROME_CHROMA == skin_tone.MONOCHROME_CHROMA
    rgb = np.full((256, 256, 3), skin_tone.lab_to_srgb(skin), np.uint8)
    measured = skin_tone.estimate(Image.fromarray(rgb), (0.0, 0.0, 256.0, 256.0))
    assert measured["ita"] is not None
    assert abs(colour.ita(np.median(lab(rgb).reshape(-1, 3), 0)) - measured["ita"]) < 1.0


def test_no_alpha_reaches_past_the_face_region() -> None:
    """On a face whose raised brow line would poke past the mesh's hull (here the forehead squashed
    down to the brows), the swap polygon is cut to the hull: the swap's alpha (both backends draw
    it inside that polygon) and restore's are zero everywhere outside mesh.face_region_mask."""
    portrait = demo_image("portraits", "kowalievska.jpg")
    mesh = detect_faces(portrait)[0].mesh.copy()
    brows = mesh[lm.BROW_L + lm.BROW_R, 1].min()
    mesh[:, 1] = np.maximum(mesh[:, 1], brows)  # nothing of the mesh above the brows
    hull = fm.fill(fm.region_polygon(mesh), portrait.shape[:2]) > 0
    region = fm.face_region_mask(mesh, portrait.shape[:2])
    swap = fm.fill(fm.swap_polygon(mesh), portrait.shape[:2]) > 0
    # The brow line is still raised as far as the hull allows: the polygon reaches the hull's top.
    assert swap[hull].mean() > 0.8
    # (one pixel of slack for the two polygons' anti-aliased rims)
    assert not (swap & ~(cv2.dilate(hull.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)).any()
    roi = (0, 0, portrait.shape[1], portrait.shape[0])
    assert blend.alpha_mask(mesh, roi, feather=4.0)[~region].max(initial=0.0) == 0.0
    (x0, y0, x1, y1), alpha = blend.restore_alpha(mesh, portrait.shape, margin=20)
    assert alpha.max() > 0.9
    assert alpha[~region[y0:y1, x0:x1]].max(initial=0.0) == 0.0



def _line_art(size: int, grain: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A pale flat drawing with thin dark strokes round a skin-coloured face (and `grain` of
    Gaussian noise over all of it): (roi, face mask, ring mask)."""
    rng = np.random.default_rng(seed)
    roi = np.full((size, size, 3), (235, 225, 210), np.float32)
    for k in range(0, size, 16):  # hatching: one stroke every 16 px
        cv2.line(roi, (k, 0), (k + size // 3, size), (30, 25, 20), 1, cv2.LINE_AA)
    c = size // 2
    face = np.zeros((size, size), np.uint8)
    cv2.circle(face, (c, c), size // 4, 1, -1)
    ring = cv2.dilate(face, np.ones((size // 5, size // 5), np.uint8)) & (1 - face)
    roi[face > 0] = (225, 180, 150)
    roi += rng.normal(0.0, grain, roi.shape[:2])[..., None]
    return np.clip(roi, 0, 255).astype(np.uint8), face > 0, ring > 0


@pytest.mark.parametrize("theme", ["realistic", "painting"])
def test_a_drawings_strokes_are_not_read_as_grain(theme: str) -> None:
    """A clean face in a flat drawing stays clean: the picture's hatching is line work, not film
    grain to add to the face (read over all the ring, it gave a noise of about 20 levels)."""
    roi, face, ring = _line_art(160, grain=0.0, seed=1)
    assert harmonise.grain_level(roi, ring) < 0.5
    out = harmonise.harmonise(roi, theme, face=face, ring=ring, face_width=80.0, seed=3)
    inner = cv2.erode(face.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    assert out[inner].astype(np.float32).std(axis=0).max() < 1.5


def test_a_grainy_pictures_grain_is_matched_between_its_strokes() -> None:
    """Grain that runs through the whole picture is still read between the strokes (reading the
    strokes too gave 8.7 for a noise of 6) and given to a clean face. The grain added is soft (a
    blur of 0.6 px), so its finest detail reads at about two thirds of the picture's."""
    roi, face, ring = _line_art(160, grain=6.0, seed=1)
    clean, _, _ = _line_art(160, grain=0.0, seed=1)
    roi[face] = clean[face]
    want = harmonise.grain_level(roi, ring)
    assert 5.0 < want < 7.5
    out = harmonise.harmonise(roi, "realistic", face=face, ring=ring, face_width=80.0, seed=3)
    assert 0.5 * want < harmonise.grain_level(out, face) < 1.2 * want


def test_a_crisp_face_is_softened_where_it_meets_a_clean_drawing_and_kept_inside() -> None:
    """A photo's skin texture inside a clean drawing: softened at the face's edge, where it meets
    the picture (an edge would show there), and left as it was deeper than EDGE_DEPTH, where the
    eyes and mouth carry the likeness (softened everywhere it blurred them with the skin)."""
    roi, face, ring = _line_art(160, grain=0.0, seed=1)
    texture = np.random.default_rng(5).normal(0.0, 8.0, roi.shape[:2])[..., None]
    roi[face] = np.clip(roi[face] + texture[face], 0, 255).astype(np.uint8)
    out = harmonise.harmonise(roi, "realistic", face=face, ring=ring, face_width=80.0, seed=3)
    depth = cv2.distanceTransform(face.astype(np.uint8), cv2.DIST_L2, 3)
    edge = face & (depth <= 3)
    deep = depth > harmonise.EDGE_DEPTH * 80.0 + 1
    assert harmonise.grain_level(out, edge) < 0.5 * harmonise.grain_level(roi, edge)
    assert np.array_equal(out[deep], roi[deep])


@pytest.mark.parametrize("theme", ["painting", "animation"])
def test_the_detail_a_style_keeps_for_the_likeness_fades_out_at_the_edge(theme: str) -> None:
    """Painting and animation keep some of the face's fine detail for the likeness, but not where
    the face meets the picture, whose flat colour or brushwork would show it as an edge."""
    _, face, ring = _line_art(160, grain=0.0, seed=1)
    clean = np.full((160, 160, 3), (225, 180, 150), np.uint8)  # no edge of its own at the face's
    textured = clean.copy()
    texture = np.random.default_rng(5).normal(0.0, 8.0, clean.shape[:2])[..., None]
    textured[face] = np.clip(clean[face] + texture[face], 0, 255).astype(np.uint8)
    a, b = (harmonise.harmonise(x, theme, face=face, ring=ring, face_width=80.0, seed=3) for x in (clean, textured))
    kept = np.abs(a.astype(np.float32) - b.astype(np.float32)).mean(axis=2)
    depth = cv2.distanceTransform(face.astype(np.uint8), cv2.DIST_L2, 3)
    edge, deep = face & (depth <= 2), depth > harmonise.EDGE_DEPTH * 80.0 + 1
    assert kept[edge].mean() < 0.75 * kept[deep].mean()  # 0.94 and 0.99 without the fade


def test_protection_ends_softly_at_the_kept_core() -> None:
    """Where the portrait is not skin-coloured right up to the face's centre (a painted forehead,
    a deep shadow), the alpha still rises softly into the centre that is always replaced: no step
    along the core's edge (clearing the protection after its blur left a step of 1 there)."""
    alpha = np.ones((80, 80), np.float32)
    core = np.zeros((80, 80), bool)
    core[40:, :] = True  # the face's centre below row 40; above it nothing is skin-coloured
    out = blend.protect_non_skin(alpha, np.zeros((80, 80), np.float32), core, soften=4.0)
    assert out[10, 40] < 0.01 and out[70, 40] > 0.99
    assert np.abs(np.diff(out[:, 40])).max() < 0.15


def test_the_new_faces_finest_texture_rises_over_the_feather() -> None:
    """At the edge of where the new face shows, none of its finest texture (which on a flat portrait
    reads as a speckled rim); at the feather's depth, all of it; its colour is kept throughout."""
    rng = np.random.default_rng(2)
    top = np.clip(150 + rng.normal(0.0, 12.0, (60, 200, 1)).repeat(3, 2), 0, 255).astype(np.uint8)
    edge_dist = np.tile(np.arange(200, dtype=np.float32), (60, 1))  # the edge on the left
    out = blend.with_detail_rising(cv2.GaussianBlur(top, (0, 0), 1.0), top, blend.rise_from_edge(edge_dist, 40.0))
    rim = out[:, :4].astype(np.float32)
    assert rim.std() < 0.4 * top[:, :4].std()
    assert np.array_equal(out[:, 60:], top[:, 60:])
    assert abs(rim.mean() - top[:, :4].astype(np.float32).mean()) < 1.0


def test_the_outline_correction_meets_the_picture_and_leaves_the_cheeks_their_colour() -> None:
    """Where the new face meets the picture it takes the picture's light; deeper than a fifth of the
    face's width it keeps the colour the colour match gave it (carried as far as 0.3 of the width,
    the portrait's falloff at its edge moved the cheeks by 3-4 levels)."""
    fw = 200.0
    shown = np.zeros((240, 240), np.uint8)
    cv2.circle(shown, (120, 120), 100, 255, -1)
    edge_dist = cv2.distanceTransform(shown, cv2.DIST_L2, 3)
    base = np.full((240, 240, 3), (150, 110, 90), np.uint8)  # the portrait, darker at its face's edge
    top = np.full((240, 240, 3), (170, 130, 110), np.uint8)
    out = blend.outline_correction(base, top, edge_dist, np.ones((240, 240), np.float32), fw)
    rim = (edge_dist > 0) & (edge_dist <= 3)
    # A fifth of the width, not blend.FADE: the test holds the cheeks to the depth measured to keep their colour.
    deep = edge_dist > 0.2 * fw + 1
    assert np.abs(out[rim].astype(np.float32) - base[rim]).mean() < 3.0
    assert np.array_equal(out[deep], top[deep])


def test_animation_inks_lines_without_covering_the_face() -> None:
    """The face's strongest edges are drawn in the picture's ink, but over the face, not instead of
    it: the eyes and folds under the lines stay the visitor's (near-opaque lines redrew them in the
    picture's ink, near black here, and cost the likeness: 16% of the fold's own level was left)."""
    roi, face, ring = _line_art(160, grain=0.0, seed=1)
    roi[ring] = (10, 10, 10)  # the picture's ink round the face
    cv2.line(roi, (60, 80), (100, 80), (120, 90, 75), 3)  # a dark fold across the face
    weights = np.array([0.299, 0.587, 0.114], np.float32)
    out = harmonise.harmonise(roi, "animation", face=face, ring=ring, face_width=80.0).astype(np.float32)
    fold, skin = float(roi[80, 80] @ weights), float(roi[95, 80] @ weights)
    darkest = float((out @ weights)[76:85, 62:98].min())
    assert darkest < fold < 0.75 * skin  # inked over the fold
    assert darkest > 0.3 * fold  # and the fold shows through
