"""Per-face figures derived from the mesh and the pixels: quality, eyes, mouth."""

from __future__ import annotations

import cv2
import numpy as np

from . import landmarks as lm
from .face import Face
from .mesh import face_width


def _dist(mesh: np.ndarray, a: int, b: int) -> float:
    return float(np.linalg.norm(mesh[a, :2] - mesh[b, :2]))


def eye_aspect(mesh: np.ndarray) -> float:
    """Mean eye-aspect ratio (lid gap / eye width) of both eyes; ~0.3 open, <0.12 closed."""
    left = (_dist(mesh, 159, 145) + _dist(mesh, 158, 153) + _dist(mesh, 160, 144)) / (3 * _dist(mesh, 33, 133) + 1e-6)
    right = (_dist(mesh, 386, 374) + _dist(mesh, 385, 380) + _dist(mesh, 387, 373)) / (3 * _dist(mesh, 263, 362) + 1e-6)
    return (left + right) / 2


def mouth_aspect(mesh: np.ndarray) -> float:
    return _dist(mesh, lm.LIP_UP_INNER, lm.LIP_DOWN_INNER) / (_dist(mesh, lm.MOUTH_L, lm.MOUTH_R) + 1e-6)


def _eye_patch(gray: np.ndarray, mesh: np.ndarray, idx: list[int]) -> np.ndarray:
    """Pixels inside the eye opening, grown by 30% about its centre.

    Kept tight on purpose: a bar across the eyes is usually taller than the
    eye, and a looser box would straddle its edge and see contrast there.
    """
    pts = mesh[idx, :2]
    c = pts.mean(0)
    poly = (c + (pts - c) * 1.3).astype(np.int32)
    x0, y0 = np.maximum(poly.min(0), 0)
    x1, y1 = poly.max(0) + 1
    sub = gray[y0:y1, x0:x1]
    if sub.size == 0:
        return sub.ravel()
    mask = np.zeros(sub.shape, np.uint8)
    cv2.fillPoly(mask, [poly - [x0, y0]], 1)
    return sub[mask.astype(bool)]


def _cheek_patch(gray: np.ndarray, mesh: np.ndarray) -> np.ndarray:
    # Skin between the eyes and the mouth corners on both sides.
    pts = mesh[[205, 425, 50, 280, 187, 411], :2]
    vals = []
    h, w = gray.shape
    r = max(2, int(0.04 * face_width(mesh)))
    for x, y in pts:
        x, y = int(x), int(y)
        if 0 <= x < w and 0 <= y < h:
            vals.append(gray[max(0, y - r):y + r + 1, max(0, x - r):x + r + 1].ravel())
    return np.concatenate(vals) if vals else np.zeros(1, np.uint8)


def eye_visibility(gray: np.ndarray, mesh: np.ndarray) -> float:
    """0..1: how clearly eye structure (dark iris/lashes against skin and sclera) shows.

    A bar, sunglasses or a hand over the eyes leaves a flat patch there. The
    contrast inside each eye patch is compared with the skin's own brightness,
    so that dim photos are not mistaken for covered eyes.
    """
    skin = float(np.median(_cheek_patch(gray, mesh))) + 10.0
    scores = []
    for idx in (lm.EYE_L, lm.EYE_R):
        patch = _eye_patch(gray, mesh, idx)
        if patch.size < 4:
            scores.append(0.0)
            continue
        p5, p95 = np.percentile(patch, [5, 95])
        scores.append(float((p95 - p5) / skin))
    # The better-visible eye counts: one eye in shadow is still a usable face.
    return max(scores)


def measure(rgb: np.ndarray, face: Face) -> None:
    mesh = face.mesh
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    x, y, w, h = (int(round(v)) for v in face.box)
    crop = gray[max(0, y):y + h, max(0, x):x + w]
    if crop.size == 0:
        return
    face.brightness = float(np.clip(crop.mean() / 255.0 * 100.0, 0, 100))
    # Sharpness on a face normalised to 128 px wide, so it does not depend on
    # the face's size in pixels; mapped to 0..100 with a soft knee.
    scale = 128.0 / max(w, 1)
    small = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    lap = cv2.Laplacian(small, cv2.CV_32F).var()
    face.sharpness = float(100.0 * (1.0 - np.exp(-lap / 150.0)))
    ear = eye_aspect(mesh)
    face.eyes_open = float(np.clip((ear - 0.12) / 0.1, 0, 1))
    face.mouth_open = float(np.clip(mouth_aspect(mesh) / 0.25, 0, 1))
    face.eyes_visible = eye_visibility(gray, mesh)
