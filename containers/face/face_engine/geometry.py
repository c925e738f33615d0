"""Fits, boxes and masks shared by both backends: the similarity between point sets, a polygon's ROI, a grown mask."""

from __future__ import annotations

import math

import cv2
import numpy as np


def similarity(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Umeyama: scale s, rotation R, translation t minimising |s R src + t - dst|^2 (N x d, no reflection)."""
    mu_s, mu_d = src.mean(0), dst.mean(0)
    a, b = src - mu_s, dst - mu_d
    cov = b.T @ a / len(src)
    u, d, vt = np.linalg.svd(cov)
    sign = np.ones(len(d))
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1
    r = u @ np.diag(sign) @ vt
    s = float((d * sign).sum() / (a ** 2).sum(1).mean())
    t = mu_d - s * r @ mu_s
    return s, r, t


def similarity_2x3(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """similarity() of 2-D points as the 2x3 matrix cv2.warpAffine takes."""
    s, r, t = similarity(np.asarray(src, np.float64), np.asarray(dst, np.float64))
    return np.concatenate([s * r, t[:, None]], axis=1)


def roi_of(poly: np.ndarray, shape: tuple[int, ...], margin: float = 2) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the polygon's bounding box grown by `margin` px, clipped to an image of `shape`."""
    h, w = shape[:2]
    x0 = max(0, int(math.floor(poly[:, 0].min() - margin)))
    y0 = max(0, int(math.floor(poly[:, 1].min() - margin)))
    x1 = min(w, int(math.ceil(poly[:, 0].max() + margin)) + 1)
    y1 = min(h, int(math.ceil(poly[:, 1].max() + margin)) + 1)
    return x0, y0, x1, y1


def grown(mask: np.ndarray, px: float) -> np.ndarray:
    """bool: a 0/255 (or bool) mask grown by `px` pixels (at least one)."""
    k = max(1, int(round(px)))
    return cv2.dilate(mask.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1,) * 2)) > 0
