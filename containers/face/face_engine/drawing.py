"""A clean drawing's own regions: the hair that stays in front, the features that go.

On a photo or a painting the swap tells what covers a face from skin by
colour, softly (pipeline, blend.protect_non_skin). A clean drawing (flat
colour, ink lines, no grain) says more: each region is one colour with a
crisp edge, so it can be kept or replaced whole.
- Hair drawn over the face (a fringe) is a region of one colour reaching in
  from outside the face. It stays in front, all of it, also where it falls
  over the brows (which the swap otherwise always replaces): a soft edge
  drawn through it left a translucent haze of hair over the new forehead.
- The portrait's own eyes, brows and mouth are drawn regions too, often
  larger than the mesh's (an anime eye's tip reaches the face's outline).
  They go whole, filled with the drawing's skin, rather than leave a ghost of
  the old eye beside the new one.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import colour
from . import harmonise as hz
from . import mesh as fm
from .geometry import grown

# A portrait whose face has less grain than this is a clean drawing: over
# the shared portraits, the four drawings measure 0.00-0.10 inside the face
# polygon and every photo and painting 1.59 or more.
CLEAN_GRAIN = 0.5
# Ink: the drawing's darkest strokes (LAB lightness, 0-100). Lines join
# everything in a drawing (the face's outline meets the hair, an eye's lash
# meets the outline), so regions are told apart by their colour, without them.
INK_L = 12.0
# Anti-aliased rims along the strokes would join regions too: regions are
# found after an erosion by this share of the face width, then grown back.
RIM = 0.01
# Ink this close to kept hair (a share of the face width) is that hair's outline.
HAIR_OUTLINE = 0.015
# The thin tips of strands, lost to that erosion, are grown back over what is
# within this distance of the hair's colour (8-bit LAB units); the rim between
# hair and skin is a mix of the two, and is not.
HAIR_TONE = 25.0
# A drawn feature goes only when this share of it lies inside the face.
FEATURE_INSIDE = 0.8
# The skin a removed feature is filled with is the drawing's own, averaged
# over this share of the face width (a drawing's skin is flat or cel-shaded).
FILL_SCALE = 0.05


def is_clean(rgb: np.ndarray, face: np.ndarray) -> bool:
    """Whether the picture is a clean drawing inside the `face` mask (no grain on its flat part)."""
    return hz.grain_level(rgb, face) < CLEAN_GRAIN


def regions(rgb: np.ndarray, skin_prob: np.ndarray, inside: np.ndarray, mesh: np.ndarray,
            origin: tuple[int, int], face_width: float) -> tuple[np.ndarray, np.ndarray]:
    """(held, removed), bool over `rgb`: the drawing's hair in front of the face, and its features.

    skin_prob: the portrait's skin probability (colour.probability).
    inside: the portrait face's swap polygon (uint8 or bool). Both are told from the portrait
    alone, so every visitor on the same drawing gets the same hair and loses the same features.
    mesh, origin: the portrait face's mesh and the ROI's top-left corner.
    """
    shape = rgb.shape[:2]
    rk = max(2, int(round(RIM * face_width)))
    ker = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * rk + 1,) * 2)
    eye_l, eye_r, brow_l, brow_r, *mouth_nose = fm.features_polygons(mesh)
    eyes_mouth = np.zeros(shape, np.uint8)
    for poly in (eye_l, eye_r, *mouth_nose):
        eyes_mouth |= fm.fill(poly, shape, origin)
    features = eyes_mouth | fm.fill(brow_l, shape, origin) | fm.fill(brow_r, shape, origin)
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    ink = lab[..., 0] < INK_L * 2.55
    not_skin = skin_prob < 0.5
    outside = np.asarray(inside) == 0

    coloured = (not_skin & ~ink & (eyes_mouth == 0)).astype(np.uint8)
    solid = cv2.erode(coloured, ker)
    _, labels = cv2.connectedComponents(solid, connectivity=8)
    reach = np.unique(labels[(solid > 0) & outside])
    hair = np.isin(labels, reach[reach > 0]) & (solid > 0)
    held = (cv2.dilate(hair.astype(np.uint8), ker, iterations=2) > 0) & (coloured > 0)
    if held.any():
        hair_toned = (coloured > 0) & (np.linalg.norm(lab - np.median(lab[held], axis=0), axis=-1) < HAIR_TONE)
        for _ in range(3 * rk):
            held |= grown(held, 1) & hair_toned
    held |= grown(held, HAIR_OUTLINE * face_width) & ink & not_skin

    rest = (not_skin & ~held).astype(np.uint8)
    solid = cv2.erode(rest, ker)
    n, labels = cv2.connectedComponents(solid, connectivity=8)
    # The outline of the face lies on the edge of `inside`; what lies deeper is the face's own.
    deep = cv2.erode(np.asarray(inside, np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (4 * rk + 1,) * 2)) > 0
    within = np.bincount(labels[(solid > 0) & deep], minlength=n)
    total = np.bincount(labels[solid > 0], minlength=n)
    pick = np.zeros(n, bool)
    pick[np.unique(labels[(solid > 0) & (features > 0)])] = True
    pick &= within >= FEATURE_INSIDE * np.maximum(total, 1)
    # What runs off the face's box is hair (strands joined to a brow), not a feature.
    pick[np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])] = False
    removed = (cv2.dilate((pick[labels] & (solid > 0)).astype(np.uint8), ker, iterations=3) > 0) & (rest > 0)
    # The anti-aliased rim round a removed feature is neither skin nor feature, and goes with it.
    # Nothing goes past the mesh's hull, inside which (grown) the engine keeps every change.
    removed |= grown(removed, 2) & (skin_prob < 0.99) & ~held
    removed &= fm.fill(fm.region_polygon(mesh), shape, origin) > 0
    return held, removed


def without(rgb: np.ndarray, removed: np.ndarray, skin_prob: np.ndarray, face_width: float) -> np.ndarray:
    """`rgb` with the `removed` regions filled with the drawing's skin round them."""
    if not removed.any():
        return rgb
    skin = (skin_prob > 0.9).astype(np.float32)
    fill = colour.masked_blur(rgb.astype(np.float32), skin, max(2.0, FILL_SCALE * face_width))
    w = cv2.GaussianBlur(grown(removed, 1).astype(np.float32), (0, 0), 1.0)[..., None]
    return np.clip(rgb * (1.0 - w) + fill * w + 0.5, 0, 255).astype(np.uint8)
