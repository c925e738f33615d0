"""Theme harmonisation: make the swapped face belong to the picture around it.

Runs at the end of restore (see pipeline.py), inside the face alpha only.
Statistics of "the picture around it" come from a ring just outside the
face region, which the swap never touched.
"""

from __future__ import annotations

import cv2
import numpy as np

THEMES = ("realistic", "painting", "travel", "animation")


def _grain(img: np.ndarray, m: np.ndarray) -> float:
    g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    hp = g - cv2.GaussianBlur(g, (0, 0), 1.0)
    v = hp[m]
    if v.size < 20:
        return 0.0
    # Median absolute deviation: robust to edges in the ring (hair, collars).
    return float(1.4826 * np.median(np.abs(v - np.median(v))))


def photo_grain(roi: np.ndarray, face: np.ndarray, ring: np.ndarray, seed: int) -> np.ndarray:
    """Add luminance grain so the face's fine noise matches the ring's."""
    want, have = _grain(roi, ring), _grain(roi, face)
    extra = want * want - have * have
    if extra <= 0.25:
        return roi
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, np.sqrt(extra), roi.shape[:2]).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), 0.5) * 1.6  # film grain is not single-pixel
    return np.clip(roi.astype(np.float32) + noise[..., None], 0, 255).astype(np.uint8)


def painting(roi: np.ndarray, face_width: float) -> np.ndarray:
    """Brush texture: edge-preserving smoothing that flattens skin into strokes."""
    s = max(3.0, face_width / 12)
    return cv2.edgePreservingFilter(roi, flags=cv2.RECURS_FILTER, sigma_s=s, sigma_r=0.25)


def animation(roi: np.ndarray, face_width: float) -> np.ndarray:
    """Flat shading (posterised luminance on smoothed colour) plus dark outlines."""
    s = max(3.0, face_width / 8)
    flat = cv2.edgePreservingFilter(roi, flags=cv2.RECURS_FILTER, sigma_s=s, sigma_r=0.4)
    lab = cv2.cvtColor(flat, cv2.COLOR_RGB2LAB).astype(np.float32)
    levels = 5.0
    step = 255.0 / levels
    q = np.floor(lab[..., 0] / step) * step + step / 2
    lab[..., 0] = 0.35 * lab[..., 0] + 0.65 * q
    out = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    g = cv2.cvtColor(roi, cv2.COLOR_RGB2GRAY).astype(np.float32)
    dog = cv2.GaussianBlur(g, (0, 0), face_width / 150 + 0.8) - cv2.GaussianBlur(g, (0, 0), face_width / 60 + 1.6)
    lines = np.clip(-dog / 6.0, 0, 1)  # dark side of edges only
    return np.clip(out.astype(np.float32) * (1 - 0.7 * lines[..., None]), 0, 255).astype(np.uint8)


def harmonise(roi: np.ndarray, theme: str, face: np.ndarray, ring: np.ndarray, face_width: float,
              seed: int = 0) -> np.ndarray:
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}")
    if theme == "painting":
        return painting(roi, face_width)
    if theme == "animation":
        return animation(roi, face_width)
    return photo_grain(roi, face, ring, seed)
