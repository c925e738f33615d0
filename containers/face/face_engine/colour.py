"""Colour and lighting match of the warped visitor face to the portrait's skin.

Global LAB statistics give the palette (a painting's yellowed varnish, a
sepia print); a ratio of heavily blurred luminance gives the portrait's
low-frequency shading (side light, shadowed cheek). Both are measured on
skin only, via normalised convolution, so the portrait's eyes, brows and
mouth do not print through as shadows of the old face.
"""

from __future__ import annotations

import cv2
import numpy as np


def _masked_blur(x: np.ndarray, w: np.ndarray, sigma: float) -> np.ndarray:
    num = cv2.GaussianBlur(x * w[..., None] if x.ndim == 3 else x * w, (0, 0), sigma)
    den = cv2.GaussianBlur(w, (0, 0), sigma)
    den = np.maximum(den, 1e-4)
    return num / (den[..., None] if x.ndim == 3 else den)


def _stats(lab: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    v = lab[m]
    return v.mean(0), v.std(0) + 1e-3


def match(visitor_rgb: np.ndarray, portrait_rgb: np.ndarray, skin: np.ndarray, sigma: float) -> np.ndarray:
    """visitor_rgb recoloured and relit like portrait_rgb (same-size ROIs, uint8 RGB).

    skin: bool mask of skin pixels valid in both (same geometry after the warp).
    sigma: blur for the lighting field, in pixels (a fraction of the face width).
    """
    if skin.sum() < 50:
        return visitor_rgb
    v = cv2.cvtColor(visitor_rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    p = cv2.cvtColor(portrait_rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    mv, sv = _stats(v, skin)
    mp, sp = _stats(p, skin)
    # Chroma: mean/std transfer, with the std ratio bounded so a grey-scale
    # portrait does not amplify noise and a vivid one does not posterise.
    ratio = np.clip(sp / sv, 0.3, 1.5)
    ratio[0] = 1.0  # luminance handled by the shading field below
    out = (v - mv) * ratio + mv
    w = skin.astype(np.float32)
    lo_v = _masked_blur(out, w, sigma)
    lo_p = _masked_blur(p, w, sigma)
    # Luminance: multiplicative shading ratio (keeps the visitor's own fine
    # shading, takes the portrait's light direction and level).
    gain = np.clip((lo_p[..., 0] + 1.0) / (lo_v[..., 0] + 1.0), 0.35, 2.5)
    out[..., 0] = out[..., 0] * gain
    # Chroma: additive low-frequency shift (warm cheeks, cool shadows).
    out[..., 1:] += lo_p[..., 1:] - lo_v[..., 1:]
    out[..., 0] = np.clip(out[..., 0], 0, 100)
    rgb = cv2.cvtColor(out, cv2.COLOR_LAB2RGB)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
