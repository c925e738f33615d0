"""Mesh geometry for the swap: the fixed triangulation and the face masks."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from . import landmarks as lm
from .geometry import similarity

_DATA = Path(__file__).resolve().parent / "data"


@lru_cache(maxsize=1)
def triangles() -> np.ndarray:
    """(T, 3) vertex indices: Delaunay of a frontal mesh (tools/make_topology.py)."""
    return np.load(_DATA / "mesh_triangles.npy").astype(np.int32)


@lru_cache(maxsize=1)
def mirror() -> np.ndarray:
    """(468,) index of each mesh point's left-right counterpart (tools/make_topology.py)."""
    return np.load(_DATA / "mesh_mirror.npy").astype(np.int32)


def face_width(mesh: np.ndarray) -> float:
    """Cheek-to-cheek width in 3D, so it does not shrink when the face turns."""
    return float(np.linalg.norm(mesh[lm.CHEEK_R] - mesh[lm.CHEEK_L]))


# How far above the brows the swap reaches, in brow-to-eye gaps.
BROW_LIFT = 1.2


def swap_polygon(mesh: np.ndarray) -> np.ndarray:
    """Outline of the region the swap replaces: brows to chin, cheek to cheek.

    It stops above the brows (the portrait keeps its forehead top,
    hairline and hair) and a little inside the jaw and cheek line (the
    portrait keeps its ears, sideburns and the arms of glasses). It never
    leaves the mesh's hull, so neither backend's alpha (nor restore's,
    drawn inside this polygon) reaches past the face region the engine
    promises to keep to.
    """
    xy = mesh[:, :2]
    centre = xy[[lm.NOSE_TIP, 168, 6]].mean(0)
    jaw = xy[lm.JAW]
    jaw = centre + (jaw - centre) * 0.985
    # Raise the brow line by BROW_LIFT brow-to-eye gaps so the brows'
    # upper edge is inside the mask with room for the feather.
    brows = xy[lm.BROW_L[:5] + lm.BROW_R[:5]]
    eyes = xy[lm.EYE_L + lm.EYE_R].mean(0)
    up = eyes - xy[[lm.CHIN]].mean(0)
    up /= np.linalg.norm(up) + 1e-9
    gap = float(np.mean([np.linalg.norm(xy[105] - xy[159]), np.linalg.norm(xy[334] - xy[386])]))
    brows = brows + up * gap * BROW_LIFT
    pts = np.concatenate([jaw, brows]).astype(np.float32)
    # On a face turned or tilted back, the raised brow line can poke past
    # the hull (the forehead's mesh then ends just above the brows).
    _, inside = cv2.intersectConvexConvex(cv2.convexHull(pts), region_polygon(mesh).reshape(-1, 1, 2))
    if inside is None or len(inside) < 3:
        # Numerically degenerate: the jaw line alone lies inside the hull.
        return cv2.convexHull(jaw.astype(np.float32)).reshape(-1, 2)
    return inside.reshape(-1, 2).astype(np.float32)


def region_polygon(mesh: np.ndarray) -> np.ndarray:
    """Hull of the whole mesh: everything the engine may touch lies inside it (dilated)."""
    return cv2.convexHull(mesh[:, :2].astype(np.float32)).reshape(-1, 2)


def fill(poly: np.ndarray, shape: tuple[int, int], offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """uint8 mask (0/255) of a polygon, in a frame whose origin is `offset` in image pixels."""
    m = np.zeros(shape, np.uint8)
    # Sub-pixel precision: 4 fractional bits.
    pts = np.round((poly - np.array(offset)) * 16).astype(np.int32)
    cv2.fillPoly(m, [pts], 255, lineType=cv2.LINE_8, shift=4)
    return m


def features_polygons(mesh: np.ndarray, brow_grow: float = 1.4) -> list[np.ndarray]:
    """Eyes, brows, lips and nostrils: excluded when sampling skin colour.

    brow_grow: how far the brows' hull is grown; 1.0 keeps just the brows
    (hair just above them is not brow).
    """
    xy = mesh[:, :2]
    polys = []
    for idx, grow in ((lm.EYE_L, 1.6), (lm.EYE_R, 1.6), (lm.BROW_L, brow_grow), (lm.BROW_R, brow_grow),
                      (lm.LIPS_OUTER, 1.25)):
        p = xy[idx]
        c = p.mean(0)
        polys.append(cv2.convexHull((c + (p - c) * grow).astype(np.float32)).reshape(-1, 2))
    # Nostrils are dark and skew the skin's mean; the alar points bound them.
    p = xy[[98, 327, 2, 97, 326, 94]]
    c = p.mean(0)
    polys.append(cv2.convexHull((c + (p - c) * 1.3).astype(np.float32)).reshape(-1, 2))
    return polys


def face_region_mask(mesh: np.ndarray, shape: tuple[int, int], dilate_frac: float = 0.08) -> np.ndarray:
    """bool mask of the mesh hull dilated by `dilate_frac` of the face width.

    The swap and restore promise to leave every pixel outside this unchanged.
    """
    m = fill(region_polygon(mesh), shape)
    r = max(1, int(round(face_width(mesh) * dilate_frac)))
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    return cv2.dilate(m, k) > 0


def target_mesh(visitor: np.ndarray, portrait: np.ndarray, inner: float = 1.0, outer: float = 0.85) -> np.ndarray:
    """Where the visitor's features go on the portrait (468x2 pixel coords).

    Warping onto the portrait's mesh exactly would give the visitor the
    portrait's eye spacing, nose length and mouth: half of what makes a face
    recognisable. Instead the visitor's 3D mesh is turned, scaled and moved
    onto the portrait's (a similarity in 3D, so the portrait's head pose is
    kept), and each point moves from the portrait's position towards the
    visitor's by a weight that is `inner` at the centre of the face and
    falls to `outer` at the outline, where the face meets the portrait's
    jaw, cheeks and hairline (0.85 there: the visitor's face shape is part
    of the likeness too, while the feathered edge still lands on the portrait's).
    """
    s, r, t = similarity(visitor, portrait)
    aligned = (s * visitor @ r.T + t)[:, :2]
    p = portrait[:, :2]
    centre = p[[1, 168, 6, 4]].mean(0)
    fw = face_width(portrait)
    rad = np.linalg.norm(p - centre, axis=1) / (0.5 * fw)
    w = np.clip(1.25 - rad, outer, inner)
    return p + (aligned - p) * w[:, None]
