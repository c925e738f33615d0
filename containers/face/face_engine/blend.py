"""Feathered alpha for the swap region and the composite that honours it."""

from __future__ import annotations

import cv2
import numpy as np

from . import mesh as fm


def alpha_mask(mesh: np.ndarray, roi: tuple[int, int, int, int], feather: float) -> np.ndarray:
    """float32 alpha in [0, 1] over the ROI; exactly 0 outside the swap polygon.

    The polygon is eroded by the feather width before blurring, so the soft
    edge lies inside the polygon and never reaches the portrait's hair,
    ears or glasses frames around it.
    """
    x0, y0, x1, y1 = roi
    hard = fm.fill(fm.swap_polygon(mesh), (y1 - y0, x1 - x0), (x0, y0))
    r = max(1, int(round(feather)))
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    core = cv2.erode(hard, k)
    a = cv2.GaussianBlur(core.astype(np.float32) / 255.0, (0, 0), sigmaX=max(0.5, feather / 2))
    a[hard == 0] = 0.0
    return a


def composite(base: np.ndarray, top: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """base*(1-a) + top*a in uint8, copying base exactly wherever a == 0."""
    a = alpha[..., None]
    out = base.astype(np.float32) * (1 - a) + top.astype(np.float32) * a
    out = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    out[alpha <= 0] = base[alpha <= 0]
    return out
