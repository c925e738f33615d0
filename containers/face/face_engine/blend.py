"""Feathered alpha for the swap region and the composite that honours it."""

from __future__ import annotations

import cv2
import numpy as np

from . import colour
from . import mesh as fm
from .geometry import roi_of

# outline_correction, as shares of the face width: the ring it measures on,
# how far its measure is spread, and how deep inside the face it fades out.
# The difference it measures is mostly the portrait's own falloff at the
# edge of its face (15-20 levels there, either way); carried in as far as
# 0.3 it still moved the cheeks by 3-4 levels, and with them the skin colour
# the colour match had set (realistic theme, same-tone pairs: median
# CIEDE2000 to the portrait's skin 1.77 at 0.3, 1.65 at 0.2; seam p90 1.027
# at both).
RING = 0.08
SPREAD = 0.12
FADE = 0.2
# restore_alpha's feather, as a share of the face width.
RESTORE_FEATHER = 0.06


def alpha_mask(mesh: np.ndarray, roi: tuple[int, int, int, int], feather: float) -> np.ndarray:
    """float32 alpha in [0, 1] over the ROI; exactly 0 outside the swap polygon.

    Alpha rises with the distance from the polygon's edge (a linear ramp over
    2x `feather` px), so the soft edge lies inside the polygon and never
    reaches the portrait's hair, ears or glasses frames around it. A distance
    transform costs the same for any feather width, unlike erode + blur.
    """
    x0, y0, x1, y1 = roi
    hard = fm.fill(fm.swap_polygon(mesh), (y1 - y0, x1 - x0), (x0, y0))
    return feather_inside(hard, feather)


def restore_alpha(mesh: np.ndarray, shape: tuple[int, ...], shrink: float = 1.0, margin: float = 2
                  ) -> tuple[tuple[int, int, int, int], np.ndarray]:
    """(ROI, alpha over it) of the region restore may change: the swap polygon of `mesh` shrunk about its centre.

    Both backends restore inside it, feathered over 6% of the face width;
    `margin` grows the ROI beyond the polygon (pixels there get alpha 0).
    """
    poly = fm.swap_polygon(mesh)
    c = poly.mean(0)
    poly = c + (poly - c) * shrink
    roi = roi_of(poly, shape, margin)
    x0, y0, x1, y1 = roi
    alpha = feather_inside(fm.fill(poly, (y1 - y0, x1 - x0), (x0, y0)), max(1.5, RESTORE_FEATHER * fm.face_width(mesh)))
    return roi, alpha


def feather_inside(hard: np.ndarray, feather: float) -> np.ndarray:
    """Alpha from a 0/255 mask: 0 at and outside its edge, rising linearly to 1 at 2*feather inside."""
    # Pad so the ROI border does not count as an edge where the mask touches it.
    padded = cv2.copyMakeBorder(hard, 1, 1, 1, 1, cv2.BORDER_REPLICATE)
    dist = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
    # A linear ramp: measured against smoothstep (and smootherstep) of the
    # same width, it leaves the weakest edge where the new face begins
    # (bench/swap_look.py's seam), and a wider ramp would take more of the
    # likeness.
    a = np.clip(dist / max(1.0, 2.0 * feather), 0.0, 1.0).astype(np.float32)
    a[hard == 0] = 0.0
    return a


def composite(base: np.ndarray, top: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """base*(1-a) + top*a in uint8, copying base exactly wherever a == 0."""
    a = np.ascontiguousarray(alpha, np.float32)
    out = cv2.blendLinear(base, top, 1.0 - a, a)
    zero = a <= 0
    out[zero] = base[zero]
    return out


def protect_non_skin(alpha: np.ndarray, skin_prob: np.ndarray, keep_core: np.ndarray, soften: float,
                     held: np.ndarray | None = None) -> np.ndarray:
    """Lower alpha where the portrait shows something other than skin.

    Hair falling over the forehead or cheek, a hat brim, the rim of glasses
    differ in colour from the portrait's own skin (colour.skin_probability).
    Inside `keep_core` (the eyes, brows, nose and mouth, which are not
    skin-coloured either but must be replaced) nothing is protected. The
    protection is softened across that edge too: cleared after the blur, it
    cut a hard line into the alpha (straight across the forehead along the
    core's brow line, where a portrait's painted or shadowed forehead is
    not skin-coloured).
    held (bool, optional): what stays in front whole, with no softening and
    also inside `keep_core` (a drawing's fringe, drawing.regions).
    """
    replaced = keep_core if held is None else keep_core & ~held
    unprotected = np.where(replaced, 0.0, 1.0 - skin_prob)
    protect = cv2.GaussianBlur(unprotected.astype(np.float32), (0, 0), max(0.5, soften))
    if held is not None:
        protect = np.maximum(protect, held * (1.0 - skin_prob))
    out = alpha * (1.0 - protect)
    out[alpha <= 0] = 0.0
    return out


def outline_correction(base: np.ndarray, top: np.ndarray, edge_dist: np.ndarray, skin_prob: np.ndarray,
                       face_width: float) -> np.ndarray:
    """`top` with its low frequencies brought to `base`'s along the region's outline, fading inwards.

    edge_dist: each pixel's distance from the edge of the region the new
    face shows in (0 outside it), as cv2.distanceTransform gives it. That
    edge is the swap's outline and also the edge of what the portrait keeps
    in front inside it (a fringe, a brim).

    Where the new face meets the picture, a difference in light or colour
    that the feather alone would squeeze into a few pixels (a line across
    the forehead under a hat brim's shadow, a paler cheek against the
    portrait's) is measured on a thin ring just inside the outline, on the
    portrait's skin only (hair or a brim over the edge must not darken the
    face), spread smoothly inwards (normalised convolution, as a membrane
    in seamless cloning) and faded out towards the face's centre, which
    keeps its own colour. Only low frequencies move: the detail of the
    new face stays.
    """
    dist = edge_dist
    ring = ((dist > 0) & (dist < RING * face_width)).astype(np.float32) * skin_prob
    if ring.sum() < 20:
        return top
    diff = base.astype(np.float32) - top.astype(np.float32)
    low = colour.masked_blur(diff, ring, max(2.0, SPREAD * face_width))
    fade = np.clip(1.0 - dist / max(1.0, FADE * face_width), 0.0, 1.0)
    return np.clip(top.astype(np.float32) + low * fade[..., None] + 0.5, 0, 255).astype(np.uint8)


def rise_from_edge(edge_dist: np.ndarray, depth: float) -> np.ndarray:
    """float32 weight: 0 at an edge (edge_dist 0, from cv2.distanceTransform), rising linearly to 1 at `depth` px."""
    return np.clip(edge_dist / max(1.0, depth), 0.0, 1.0).astype(np.float32)


def with_detail_rising(low: np.ndarray, top: np.ndarray, rise: np.ndarray) -> np.ndarray:
    """`low` (a smoother copy of `top`) plus `rise` (0..1 per pixel) of the detail `top` has above it, as uint8."""
    low = low.astype(np.float32)
    return np.clip(low + rise[..., None] * (top.astype(np.float32) - low) + 0.5, 0, 255).astype(np.uint8)
