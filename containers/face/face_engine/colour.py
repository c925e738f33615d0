"""Colour and lighting match of the warped visitor face to the portrait's skin.

The portrait's low-frequency LAB field (its palette, a painting's yellowed
varnish or a sepia print, and its shading: side light, a shadowed cheek)
replaces the visitor's; the visitor keeps their detail. Fields are measured
on skin only, via normalised convolution, so the portrait's eyes, brows and
mouth do not print through as shadows of the old face.
"""

from __future__ import annotations

import cv2
import numpy as np


def _masked_blur(x: np.ndarray, w: np.ndarray, sigma: float) -> np.ndarray:
    """Normalised convolution: the blur of x over pixels where w > 0, filled in elsewhere.

    The field is smooth by construction, so it is computed at a scale where
    sigma is ~4 px and resized back: the same result at a fraction of the cost.
    """
    h, wd = w.shape
    f = max(1.0, sigma / 4.0)
    small = (max(1, round(wd / f)), max(1, round(h / f)))
    xs = cv2.resize(x * w[..., None], small, interpolation=cv2.INTER_AREA)
    ws = cv2.resize(w, small, interpolation=cv2.INTER_AREA)
    num = cv2.GaussianBlur(xs, (0, 0), sigma / f)
    den = np.maximum(cv2.GaussianBlur(ws, (0, 0), sigma / f), 1e-4)
    lo = num / den[..., None]
    return cv2.resize(lo, (wd, h), interpolation=cv2.INTER_LINEAR)


def skin_probability(rgb: np.ndarray, seed: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """float32 0..1 per pixel: how much it looks like the skin sampled in `seed` (bool).

    Mahalanobis distance in LAB (luminance down-weighted) to the seed's colour distribution (trimmed
    once, so stray hair or shadow in the seed does not widen it): within 3
    sigma counts as skin, beyond 5 as not. Computed at 1/scale resolution
    (the callers only need a smooth map) and returned at full size.
    """
    h, w = seed.shape
    f = max(1.0, scale)
    size = (max(1, round(w / f)), max(1, round(h / f)))
    lab = cv2.cvtColor(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2LAB).astype(np.float32)
    # Luminance counts for little: the shadowed half of a side-lit face is
    # still skin (it must feed the lighting field), while hair and hats
    # differ in hue and saturation as well as in brightness.
    lab[..., 0] *= 0.35
    sm = cv2.resize(seed.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    if sm.sum() < 20:
        return np.ones((h, w), np.float32)
    s = lab[sm]
    for _ in range(2):
        mu = s.mean(0)
        inv = np.linalg.inv(np.cov(s, rowvar=False) + np.eye(3) * 4.0).astype(np.float32)
        d2 = np.einsum("ni,ij,nj->n", s - mu, inv, s - mu)
        keep = d2 < np.percentile(d2, 85)
        if keep.sum() < 20:
            break
        s = s[keep]
    d = lab - mu
    dist = np.sqrt(np.einsum("...i,ij,...j->...", d, inv, d))
    prob = np.clip((5.0 - dist) / 2.0, 0.0, 1.0).astype(np.float32)
    if f > 1.0:
        prob = cv2.resize(prob, (w, h), interpolation=cv2.INTER_LINEAR)
    return prob


def match(visitor_rgb: np.ndarray, portrait_rgb: np.ndarray, skin: np.ndarray, sigma: float,
          inner: np.ndarray | None = None, inner_sigma: float | None = None) -> np.ndarray:
    """visitor_rgb recoloured and relit like portrait_rgb (same-size ROIs, uint8 RGB).

    skin: bool mask of skin pixels valid in both (same geometry after the warp).
    sigma: blur for the lighting field, in pixels (a fraction of the face width).
    inner, inner_sigma: optional float weight map (0..1) and a coarser blur
        used where it is 1: the centre of the face keeps more of the
        visitor's own shading (which models the nose, cheekbones and brow
        and so carries identity), while towards the outline the finer field
        matches the portrait's lighting closely so no seam shows.

    Each LAB channel is split into a low-frequency field (masked blur over
    skin) and detail. The output takes the portrait's field and the
    visitor's detail, with the detail's contrast scaled towards the
    portrait's (bounded, so a soft painting softens the face somewhat but
    never erases the features that carry identity). Additive in LAB: a
    multiplicative gain blew out highlights on dark, contrasty photos.
    """
    if skin.sum() < 50:
        return visitor_rgb
    v = cv2.cvtColor(visitor_rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    p = cv2.cvtColor(portrait_rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    w = skin.astype(np.float32)
    lo_v = _masked_blur(v, w, sigma)
    lo_p = _masked_blur(p, w, sigma)
    if inner is not None and inner_sigma is not None and inner.max() > 0:
        k = inner[..., None].astype(np.float32)
        lo_v = lo_v * (1.0 - k) + _masked_blur(v, w, inner_sigma) * k
        lo_p = lo_p * (1.0 - k) + _masked_blur(p, w, inner_sigma) * k
    # Luminance: the portrait's field plus the visitor's detail, whose
    # contrast moves towards the portrait's but keeps at least 80% (the
    # features that carry identity live there).
    det_v = v[..., 0] - lo_v[..., 0]
    det_p = p[..., 0] - lo_p[..., 0]
    gain = float(np.clip((det_p[skin].std() + 1e-3) / (det_v[skin].std() + 1e-3), 0.8, 1.3))
    det_v = det_v * gain
    out = np.empty_like(v)
    out[..., 0] = np.clip(lo_p[..., 0] + det_v, 0, 100)
    # Chroma: the portrait's hue, with the visitor's saturation relative to
    # their own skin (sclera and teeth stay neutral, lips stay more
    # saturated than skin). Adding chroma detail instead turned the eyes
    # blue in pale portraits.
    c_v = np.hypot(v[..., 1], v[..., 2])
    c_lo = np.maximum(np.hypot(lo_v[..., 1], lo_v[..., 2]), 4.0)
    rel = np.clip(c_v / c_lo, 0.0, 1.6)
    out[..., 1:] = lo_p[..., 1:] * rel[..., None]
    rgb = cv2.cvtColor(out, cv2.COLOR_LAB2RGB)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
