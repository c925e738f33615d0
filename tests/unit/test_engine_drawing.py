"""A clean drawing's hair stays in front whole, and its own features go whole.

The drawing is painted on the geometry of a real face (the demo's bundled
visitor photo, so it runs in a fresh clone): flat skin inside the swap
polygon, blue hair with a fringe falling over one brow, black outlines, and
anime eyes wider than the mesh's, whose outer tips reach past the mesh's eye.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from _engine_path import ENGINE_DIR  # noqa: F401  (puts the engine on sys.path)
from test_engine_look import demo_image, lab

from face_engine import drawing, pipeline
from face_engine import landmarks as lm
from face_engine import mesh as fm
from face_engine.detect import detect_faces
from face_engine.face import Face

SKIN, HAIR, INK, WHITE, IRIS = (250, 222, 196), (20, 30, 160), (0, 0, 0), (255, 255, 255), (30, 40, 120)


def _drawn_portrait() -> tuple[np.ndarray, Face, dict]:
    """(drawing, the face whose mesh it is drawn on, named masks of what was drawn)."""
    photo = demo_image("photos", "visitor-b.jpg")
    face = detect_faces(photo)[0]
    mesh, h, w = face.mesh, *photo.shape[:2]
    img = np.full((h, w, 3), 255, np.uint8)
    face_poly = fm.swap_polygon(mesh)
    # hair: everything above the brows' top, and down the sides
    brows = mesh[lm.BROW_L + lm.BROW_R, :2]
    top = brows[:, 1].min()
    hull = fm.region_polygon(mesh)
    cv2.fillPoly(img, [np.round(hull).astype(np.int32)], HAIR)
    cv2.fillPoly(img, [np.round(face_poly).astype(np.int32)], SKIN)
    img[: int(top) - int(0.05 * face.face_width)] = HAIR
    cv2.polylines(img, [np.round(face_poly).astype(np.int32)], True, INK, 3, cv2.LINE_AA)
    # a fringe falling from the hair at the side, over the right brow, to the eye's top
    fw, eye_r = face.face_width, mesh[lm.EYE_R, :2]
    tip = np.array([eye_r[:, 0].mean(), eye_r[:, 1].min() - 0.03 * fw])
    fringe = np.array([[tip[0] - 0.2 * fw, top - 0.3 * fw], [tip[0] + 0.6 * fw, top - 0.3 * fw],
                       [tip[0] + 0.6 * fw, tip[1]], tip])
    cv2.fillPoly(img, [np.round(fringe).astype(np.int32)], HAIR, cv2.LINE_AA)
    # anime eyes: 2.2x the mesh eye's width, the tips past the brows' ends
    eye_tips = np.zeros((h, w), bool)
    mesh_eyes = np.zeros((h, w), np.uint8)
    for poly in fm.features_polygons(mesh)[:2]:
        mesh_eyes |= fm.fill(poly, (h, w))
    for idx in (lm.EYE_L, lm.EYE_R):
        p = mesh[idx, :2]
        c, half = p.mean(0), (p[:, 0].max() - p[:, 0].min()) * 1.1
        axes = (int(half), int(half * 0.45))
        cv2.ellipse(img, (int(c[0]), int(c[1])), axes, 0, 0, 360, WHITE, -1, cv2.LINE_AA)
        cv2.circle(img, (int(c[0]), int(c[1])), int(half * 0.4), IRIS, -1, cv2.LINE_AA)
        cv2.ellipse(img, (int(c[0]), int(c[1])), axes, 0, 0, 360, INK, 3, cv2.LINE_AA)
        drawn = np.zeros((h, w), np.uint8)
        cv2.ellipse(drawn, (int(c[0]), int(c[1])), (axes[0] - 3, axes[1] - 3), 0, 0, 360, 1, -1)
        eye_tips |= (drawn > 0) & (mesh_eyes == 0)
    lips = mesh[lm.LIPS_OUTER, :2]
    cv2.fillPoly(img, [np.round(lips).astype(np.int32)], (190, 40, 40))
    fringe_mask = (fm.fill(fringe, (h, w)) > 0) & (img == HAIR).all(axis=2)
    return img, face, {"fringe": fringe_mask, "eye_tips": eye_tips, "face": face}


@pytest.fixture(scope="module")
def drawn_portrait() -> tuple[np.ndarray, Face, dict]:
    return _drawn_portrait()


@pytest.fixture(scope="module")
def drawn_swap(drawn_portrait) -> tuple[np.ndarray, np.ndarray, dict]:
    portrait, pf, drawn = drawn_portrait
    visitor = demo_image("photos", "visitor-a.jpg")
    vf = detect_faces(visitor)[0]
    out, _ = pipeline.swap_detected(visitor, vf, portrait, pf, "animation")
    return portrait, out, drawn


def test_the_drawing_reads_as_clean(drawn_portrait) -> None:
    portrait, pf, _ = drawn_portrait
    polygon = fm.fill(fm.swap_polygon(pf.mesh), portrait.shape[:2]) > 0
    assert drawing.is_clean(portrait, polygon)
    assert not drawing.is_clean(demo_image("photos", "visitor-b.jpg"), polygon)


def test_a_drawn_fringe_stays_in_front_whole_also_over_the_brow(drawn_swap) -> None:
    """The fringe reaches into the face's centre, which the swap always replaces; on a clean
    drawing it stays, every pixel of it (a soft edge through it left a haze of hair)."""
    portrait, out, drawn = drawn_swap
    fringe = cv2.erode(drawn["fringe"].astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert np.array_equal(out[fringe], portrait[fringe])


def test_a_drawn_eyes_tip_beyond_the_mesh_goes_with_the_eye(drawn_swap) -> None:
    """The anime eye is wider than the mesh's: where its tips reach the face's outline, past the
    new face's feather, they are filled with the drawing's skin, not left as a faded ghost of the
    old eye (white and blue) beside the new one. The soft protection left 44% of it."""
    portrait, out, drawn = drawn_swap
    pf = drawn["face"]
    polygon = fm.fill(fm.swap_polygon(pf.mesh), portrait.shape[:2])
    k = int(2 * pipeline.FEATHER * pf.face_width)
    deep = cv2.erode(polygon, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1,) * 2)) > 0
    tips = drawn["eye_tips"] & ~deep
    assert tips.sum() > 200
    skin_b = float(lab(np.array([[SKIN]], np.uint8))[0, 0, 2])
    ghost = lambda img: (lab(img)[..., 0] > 94.1) | (lab(img)[..., 2] < skin_b - 25)  # noqa: E731
    assert ghost(portrait)[tips].mean() > 0.8
    assert ghost(out)[tips].mean() < 0.05


def test_nothing_changes_outside_the_face_region(drawn_swap) -> None:
    """Removing a drawn feature whole reaches past the swap polygon, never past the region the
    engine promises to stay inside."""
    portrait, out, drawn = drawn_swap
    region = fm.face_region_mask(drawn["face"].mesh, portrait.shape[:2])
    assert np.array_equal(out[~region], portrait[~region])
    assert not np.array_equal(out[region], portrait[region])
