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


def masked_blur(x: np.ndarray, w: np.ndarray, sigma: float) -> np.ndarray:
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


def skin_distance(rgb: np.ndarray, seed: np.ndarray, scale: float = 1.0, lum_weight: float = 0.35) -> np.ndarray:
    """float32 per pixel: how many standard deviations its colour lies from the skin sampled in `seed` (bool).

    Mahalanobis distance in LAB (luminance down-weighted) to the seed's
    colour distribution (trimmed once, so stray hair or shadow in the seed
    does not widen it). Computed at 1/scale resolution (the callers only
    need a smooth map) and returned at full size. 0 everywhere when the
    seed is too small to measure.
    """
    h, w = seed.shape
    f = max(1.0, scale)
    size = (max(1, round(w / f)), max(1, round(h / f)))
    lab = cv2.cvtColor(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2LAB).astype(np.float32)
    # By default luminance counts for little: the shadowed half of a
    # side-lit face is still skin (it must feed the lighting field), while
    # hair and hats differ in hue and saturation as well as in brightness.
    # Brown hair over a forehead differs mostly in brightness: lum_weight=1.
    lab[..., 0] *= lum_weight
    sm = cv2.resize(seed.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    if sm.sum() < 20:
        return np.zeros((h, w), np.float32)
    s = lab[sm]
    for _ in range(2):
        mu = s.mean(0)
        inv = np.linalg.inv(np.cov(s, rowvar=False) + np.eye(3) * 4.0).astype(np.float32)
        d2 = (((s - mu) @ inv) * (s - mu)).sum(-1)
        keep = d2 < np.percentile(d2, 85)
        if keep.sum() < 20:
            break
        s = s[keep]
    d = lab - mu
    # A quadratic form per pixel; a matrix product and a sum are 2.4x faster than np.einsum here.
    dist = np.sqrt(((d @ inv) * d).sum(-1)).astype(np.float32)
    if f > 1.0:
        dist = cv2.resize(dist, (w, h), interpolation=cv2.INTER_LINEAR)
    return dist


def probability(dist: np.ndarray, near: float = 3.0, far: float = 5.0) -> np.ndarray:
    """float32 0..1 from skin_distance: within `near` sigma counts as skin, beyond `far` as not."""
    return np.clip((far - dist) / (far - near), 0.0, 1.0).astype(np.float32)


# Skin tone: ITA (the dermatologists' Individual Typology Angle, as the crop
# step measures it to choose a portrait) differences up to TONE_SLACK degrees
# are taken as the picture's light and cast, and the face takes the portrait's
# colour; beyond that, TONE_KEEP of the rest stays the visitor's, so nobody
# is recoloured into someone else. One band of the six is 13-40 degrees wide,
# and one photo places a visitor within about a band.
TONE_SLACK = 18.0
MONOCHROME_CHROMA = 4.0  # skin chroma C*ab below this: no colour to keep a tone in
TONE_KEEP = 0.6
# On a darker portrait, how deep (L units) a visitor's shadow stays as it is,
# and the least share of its depth beyond that which it keeps (see match).
SHADE_KNEE = 10.0
SHADE_MIN = 0.5


def ita(lab: np.ndarray) -> float:
    """ITA in degrees of one LAB colour (L in 0..100).

    The crop step's gallery.skin_tone measures the same angle and uses the
    same monochrome limit; the engine is deployed apart from the layer, so
    tests/unit/test_engine_look.py keeps the two in step.
    """
    return float(np.degrees(np.arctan2(lab[0] - 50.0, max(float(lab[2]), 1e-3))))


def tone_shift(visitor_lab: np.ndarray, portrait_lab: np.ndarray) -> np.ndarray:
    """LAB offset from the portrait's skin colour that keeps the visitor's own tone (see TONE_SLACK).

    Zero for a monochrome portrait (a grey or faded print has no skin tone
    to compare with; the face takes the print's tones).
    """
    if float(np.hypot(portrait_lab[1], portrait_lab[2])) < MONOCHROME_CHROMA:
        return np.zeros(3, np.float32)
    d = ita(visitor_lab) - ita(portrait_lab)
    if abs(d) <= TONE_SLACK:
        return np.zeros(3, np.float32)
    keep = TONE_KEEP * (abs(d) - TONE_SLACK) / abs(d)
    return (keep * (visitor_lab - portrait_lab)).astype(np.float32)


def match(visitor_rgb: np.ndarray, portrait_rgb: np.ndarray, visitor_skin: np.ndarray,
          portrait_skin: np.ndarray, sigma: float, inner: np.ndarray | None = None,
          inner_sigma: float | None = None, chroma_sigma: float | None = None,
          tone_weight: np.ndarray | None = None) -> np.ndarray:
    """visitor_rgb recoloured and relit like portrait_rgb (same-size ROIs, uint8 RGB).

    visitor_skin, portrait_skin: bool masks of each face's own skin (the
        visitor's after the warp, so both in the portrait's geometry). Each
        field is measured on its own face's skin: where only one of them
        shows skin (the portrait's lipstick, the visitor's beard) the other
        still has a field measured on its own pixels nearby, not a hole
        filled from far away.
    sigma: blur for the lighting field, in pixels (a fraction of the face width).
    chroma_sigma: optional finer blur for the portrait's colour (hue and
        saturation) alone: a painting's patches of colour on the face (a
        Fauvist green shadow, a warm glaze on a cheek) come through.
    inner, inner_sigma: optional float weight map (0..1) and a coarser blur
        used where it is 1: the centre of the face keeps more of the
        visitor's own shading (which models the nose, cheekbones and brow
        and so carries identity), while towards the outline the finer field
        matches the portrait's lighting closely so no seam shows.
    tone_weight: optional float map (0..1) of where, and how much, the
        result's skin colour is read: the final shift matches the weighted
        mean there.

    Each LAB channel is split into a low-frequency field (masked blur over
    skin) and detail. The output takes the portrait's field and the
    visitor's detail, with the detail's contrast scaled towards the
    portrait's (bounded, so a soft painting softens the face somewhat but
    never erases the features that carry identity). Additive in LAB: a
    multiplicative gain blew out highlights on dark, contrasty photos.
    Last, the face's skin is moved as a whole to the portrait's skin colour
    plus what tone_shift keeps of the visitor's own tone.
    """
    if visitor_skin.sum() < 50 or portrait_skin.sum() < 50:
        return visitor_rgb
    v = cv2.cvtColor(visitor_rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    p = cv2.cvtColor(portrait_rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    wv = visitor_skin.astype(np.float32)
    wp = portrait_skin.astype(np.float32)
    lo_v = masked_blur(v, wv, sigma)
    lo_p = masked_blur(p, wp, sigma)
    # The detail's statistics come from the fine fields alone, so that the
    # inner weight changes the output only where it is non-zero.
    spread = float((v[..., 0] - lo_v[..., 0])[visitor_skin].std()) + 1e-3
    gain = float(np.clip(((p[..., 0] - lo_p[..., 0])[portrait_skin].std() + 1e-3) / spread, 0.8, 1.3))
    if inner is not None and inner_sigma is not None and inner.max() > 0:
        k = inner[..., None].astype(np.float32)
        lo_v = lo_v * (1.0 - k) + masked_blur(v, wv, inner_sigma) * k
        lo_p = lo_p * (1.0 - k) + masked_blur(p, wp, inner_sigma) * k
    # Luminance: the portrait's field plus the visitor's detail, whose
    # contrast moves towards the portrait's but keeps at least 80% (the
    # features that carry identity live there).
    det_v = v[..., 0] - lo_v[..., 0]
    # A deep shadow takes away a share of the light, not a fixed amount: on
    # a darker portrait the visitor's eye sockets deepen beyond SHADE_KNEE
    # by the ratio of the two skins' lightness. Added as they were (and by
    # the portrait's stronger texture on top), a light photo's sockets on a
    # brown portrait went near-black, and the chroma kept below turned them
    # dark red (obama2 > creationhill). The shallower shading (folds, the
    # sides of the nose) stays whole: scaled too, it cost likeness (painted
    # portraits, painting theme: median dlib distance 0.431 -> 0.437; with
    # the knee 0.430).
    shade = np.clip(lo_p[..., 0] / np.maximum(lo_v[..., 0], 1.0), SHADE_MIN, 1.0)
    det_v = np.where(det_v < -SHADE_KNEE, -SHADE_KNEE + (det_v + SHADE_KNEE) * shade, det_v)
    out = np.empty_like(v)
    out[..., 0] = lo_p[..., 0] + det_v * gain
    # Chroma: the portrait's hue, with the visitor's saturation relative to
    # their own skin (sclera and teeth stay neutral, lips stay more
    # saturated than skin). Adding chroma detail instead turned the eyes
    # blue in pale portraits.
    # Relative to a fine field of the visitor's own skin colour: a forehead
    # paler than the cheeks in the visitor's photo is their light, not their
    # skin, and takes the portrait's colour there.
    c_v = np.hypot(v[..., 1], v[..., 2])
    fine_v = masked_blur(v, wv, sigma / 2)
    c_lo = np.maximum(np.hypot(fine_v[..., 1], fine_v[..., 2]), 4.0)
    rel = np.clip(c_v / c_lo, 0.0, 1.6)
    chroma_p = lo_p[..., 1:] if chroma_sigma is None else masked_blur(p, wp, chroma_sigma)[..., 1:]
    out[..., 1:] = chroma_p * rel[..., None]
    both = visitor_skin & portrait_skin
    want: np.ndarray | None = None  # the skin's mean colour to reach, when there is skin to read
    if both.sum() >= 50:
        # Region by region (at the fine field's scale), the skin's lightness
        # is brought to the portrait's, so a cheek the visitor's lamp lit
        # does not read lighter than the picture; the shading inside a region
        # (what models the nose and cheekbones) stays. At half that scale the
        # colour matched better still but the likeness fell (bench figures
        # in bench/RESULTS.md).
        off = masked_blur(p - out, both.astype(np.float32), sigma)[..., 0]
        out[..., 0] += off.astype(np.float32)
        # Means, not medians: a face's highlights and shadows are not
        # symmetric, and it is the mean colour the eye (and a colorimeter)
        # compares with the neck and ears beside it. Read where a face's
        # colour is read (tone_weight: the cheeks and forehead, as the result
        # shows them): around the mouth and nose skin is redder and the
        # visitor's expression (smile folds) shades it, and matching the mean
        # there left the cheeks greyer than the portrait's (bench figures in
        # bench/RESULTS.md).
        w = both.astype(np.float32) if tone_weight is None or tone_weight.sum() < 50 else tone_weight
        w = w[..., None] / w.sum()

        def mean_in(lab: np.ndarray) -> np.ndarray:
            return (lab * w).sum(axis=(0, 1))

        want_p = mean_in(p)
        want = want_p + tone_shift(mean_in(v), want_p)
        out += (want - mean_in(out)).astype(np.float32)
    out[..., 0] = np.clip(out[..., 0], 0, 100)
    rgb = np.clip(cv2.cvtColor(out, cv2.COLOR_LAB2RGB), 0.0, 1.0)
    # A saturated skin (a drawn face's flat orange) plus the visitor's detail
    # leaves sRGB's gamut in places, and the clip pulls the mean back towards
    # grey: the shift is measured again after it.
    if want is not None:
        for _ in range(2):
            got = mean_in(cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB))
            if np.abs(want - got).max() < 0.3:
                break
            out += (want - got).astype(np.float32)
            rgb = np.clip(cv2.cvtColor(out, cv2.COLOR_LAB2RGB), 0.0, 1.0)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
