"""Feathered alpha for the swap region and the composite that honours it."""

from __future__ import annotations

import cv2
import numpy as np

from . import mesh as fm


def alpha_mask(mesh: np.ndarray, roi: tuple[int, int, int, int], feather: float) -> np.ndarray:
    """float32 alpha in [0, 1] over the ROI; exactly 0 outside the swap polygon.

    Alpha rises with the distance from the polygon's edge (a smoothstep over
    2x `feather` px), so the soft edge lies inside the polygon and never
    reaches the portrait's hair, ears or glasses frames around it. A distance
    transform costs the same for any feather width, unlike erode + blur.
    """
    x0, y0, x1, y1 = roi
    hard = fm.fill(fm.swap_polygon(mesh), (y1 - y0, x1 - x0), (x0, y0))
    return feather_inside(hard, feather)


def feather_inside(hard: np.ndarray, feather: float) -> np.ndarray:
    """Smoothstep alpha from a 0/255 mask: 0 at and outside its edge, 1 deeper than 2*feather."""
    # Pad so the ROI border does not count as an edge where the mask touches it.
    padded = cv2.copyMakeBorder(hard, 1, 1, 1, 1, cv2.BORDER_REPLICATE)
    dist = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
    t = np.clip(dist / max(1.0, 2.0 * feather), 0.0, 1.0)
    a = (t * t * (3.0 - 2.0 * t)).astype(np.float32)
    a[hard == 0] = 0.0
    return a


def composite(base: np.ndarray, top: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """base*(1-a) + top*a in uint8, copying base exactly wherever a == 0."""
    a = np.ascontiguousarray(alpha, np.float32)
    out = cv2.blendLinear(base, top, 1.0 - a, a)
    zero = a <= 0
    out[zero] = base[zero]
    return out


def protect_non_skin(alpha: np.ndarray, base_rgb: np.ndarray, skin: np.ndarray, keep_core: np.ndarray,
                     soften: float) -> np.ndarray:
    """Lower alpha where the portrait shows something other than skin near the mask edge.

    Hair falling over the forehead or cheek, a hat brim, the rim of glasses:
    they differ in colour from the portrait's own skin (Mahalanobis distance
    in LAB, measured on `skin`). Inside `keep_core` (the eyes, brows, nose
    and mouth, which are not skin-coloured either but must be replaced)
    nothing is protected.
    """
    if skin.sum() < 50:
        return alpha
    # The protection map is smooth, so it is computed at reduced size.
    h, w = alpha.shape
    f = max(1.0, soften / 2.0)
    size = (max(1, round(w / f)), max(1, round(h / f)))
    lab = cv2.cvtColor(cv2.resize(base_rgb, size, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2LAB).astype(np.float32)
    small_skin = cv2.resize(skin.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    if small_skin.sum() < 20:
        return alpha
    s = lab[small_skin]
    mu = s.mean(0)
    cov = np.cov(s, rowvar=False) + np.eye(3) * 4.0
    inv = np.linalg.inv(cov).astype(np.float32)
    d = lab - mu
    m2 = np.einsum("...i,ij,...j->...", d, inv, d)
    # Within ~3 sigma is skin; protection ramps in from 3 to 5 sigma.
    protect = np.clip((np.sqrt(m2) - 3.0) / 2.0, 0.0, 1.0).astype(np.float32)
    protect = cv2.GaussianBlur(protect, (0, 0), max(0.5, soften / f))
    protect = cv2.resize(protect, (w, h), interpolation=cv2.INTER_LINEAR)
    protect[keep_core] = 0.0
    out = alpha * (1.0 - protect)
    out[alpha <= 0] = 0.0
    return out
