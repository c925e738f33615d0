"""Theme harmonisation: make the swapped face belong to the picture around it.

Runs at the end of restore (see pipeline.py) and only inside the face
alpha. "The picture around it" is measured on a ring just outside the face
region, which the swap never touched.

- realistic, travel: match the portrait's sharpness where the face meets
  it (soften a face that is crisper than an old photo or a clean drawing)
  and film grain (add grain the face lacks).
- painting: edge-preserving smoothing at a brush scale tied to the face
  size, a palette pulled towards the portrait's by quantising luminance
  softly, and canvas grain matched to the ring.
- animation: flat shading (strong edge-preserving smoothing and posterised
  luminance) and lines in the picture's ink on the strongest edges (XDoG),
  laid over the features rather than drawn instead of them.

Grain is read on the flat parts of the ring and the face, not on strokes
or features. Each style's own fine detail (texture, the trace kept for the
likeness) rises from nothing at the face's edge to full at EDGE_DEPTH.

The heavy filters run at a reduced scale (the face ~160-200 px wide), which
is also what makes brush strokes and cel shading the right size whatever
the resolution of the portrait.
"""

from __future__ import annotations

import cv2
import numpy as np

from .blend import rise_from_edge, with_detail_rising

THEMES = ("realistic", "painting", "travel", "animation")
# Animation inks the edges above this percentile of the face's own edge strength.
LINE_PERCENTILE = 90.0
# How much of the picture's ink a line takes at its darkest. Lines are found
# on the face scaled to 160 px wide, so on a large face they are thick, and
# near-opaque (0.85) they redrew the visitor's eyes and smile folds as the
# picture's ink: median dlib distance 0.507 at 0.85, 0.490 at 0.65, 0.481
# at 0.5, 0.475 without lines (306 animation results). At 0.6 the face
# still reads as inked.
INK_OPACITY = 0.6


def _gray(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)


# Grain is read on the flatter half of a region: where its structure (the
# gradient after a blur at this sigma, px) is at or below its median.
STRUCTURE_SIGMA = 2.0


def flat_part(img: np.ndarray, m: np.ndarray) -> np.ndarray:
    """bool: the flatter half of mask `m` on `img`, where its structure is at or below the median.

    On line art, hatching or hair the finest detail is mostly the strokes
    themselves, not grain: read over all of a drawing's ring it covered a
    drawn portrait's new face in noise, and read over all of a face it
    counted the eyes and mouth as grain.
    """
    if m.sum() < 40:
        return m
    blurred = cv2.GaussianBlur(_gray(img), (0, 0), STRUCTURE_SIGMA)
    structure = cv2.magnitude(cv2.Sobel(blurred, cv2.CV_32F, 1, 0), cv2.Sobel(blurred, cv2.CV_32F, 0, 1))
    return m & (structure <= np.median(structure[m]))


def grain_on(img: np.ndarray, flat: np.ndarray, sigma: float = 1.0) -> float:
    """Robust amplitude of the finest detail (median absolute deviation of a high-pass) on the pixels of `flat`."""
    g = _gray(img)
    v = (g - cv2.GaussianBlur(g, (0, 0), sigma))[flat]
    if v.size < 20:
        return 0.0
    return float(1.4826 * np.median(np.abs(v - np.median(v))))


def grain_level(img: np.ndarray, m: np.ndarray, sigma: float = 1.0) -> float:
    """The grain of `img` on the flat part of `m` (flat_part, then grain_on)."""
    return grain_on(img, flat_part(img, m), sigma)


def _add_grain(img: np.ndarray, amount: float, seed: int, size: float) -> np.ndarray:
    if amount <= 0.5:
        return img
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(img.shape[:2]).astype(np.float32)
    if size > 0.3:
        blurred = cv2.GaussianBlur(noise, (0, 0), size)
        noise = (blurred / (blurred.std() + 1e-6)).astype(np.float32)
    return np.clip(img.astype(np.float32) + (noise * amount)[..., None], 0, 255).astype(np.uint8)


# Where the face meets the picture it takes the picture's fine detail, and
# its own (its texture, the detail each style keeps for the likeness) only
# from this share of the face width inwards, rising linearly from the edge.
EDGE_DEPTH = 0.2


def inward(face: np.ndarray, face_width: float) -> np.ndarray:
    """float32 per pixel: 0 at the edge of the `face` mask, rising to 1 at EDGE_DEPTH of the face width inside."""
    return rise_from_edge(cv2.distanceTransform(face.astype(np.uint8), cv2.DIST_L2, 3), EDGE_DEPTH * face_width)


def with_likeness_trace(styled: np.ndarray, roi: np.ndarray, face: np.ndarray, face_width: float,
                        share: float) -> np.ndarray:
    """`styled` (float32 or uint8) plus `share` of `roi`'s fine detail, rising from the face's edge (inward), as uint8.

    Painting and animation smooth the face's texture away; a trace of it
    keeps the likeness, but not where the face meets the picture, whose
    flat colour or brushwork would show it as an edge.
    """
    detail = roi.astype(np.float32) - cv2.GaussianBlur(roi, (0, 0), 1.5).astype(np.float32)
    detail *= share * inward(face, face_width)[..., None]
    return np.clip(styled.astype(np.float32) + detail, 0, 255).astype(np.uint8)


def photo_match(roi: np.ndarray, face: np.ndarray, ring: np.ndarray, face_width: float, seed: int) -> np.ndarray:
    """Soften the face to the ring's sharpness where it meets the ring, then add the grain it lacks.

    The softening fades out inwards: a picture with no fine detail at all
    (a clean drawing, a soft print) would otherwise blur the whole face, its
    eyes and mouth too, and with them the likeness. Where the face meets the
    picture it matches, which is where an edge would show.
    """
    want = grain_level(roi, ring)
    # The face's flat part is found once, on the face as it comes: its
    # blurred copies below have the same features in the same places.
    flat = flat_part(roi, face)
    out = roi
    for s in (0.6, 0.9, 1.3, 1.8):
        if grain_on(out, flat) <= want * 1.15:
            break
        out = cv2.GaussianBlur(roi, (0, 0), s)
    if out is not roi:
        out = with_detail_rising(out, roi, inward(face, face_width))
    have = grain_on(out, flat)
    return _add_grain(out, float(np.sqrt(max(0.0, want * want - have * have))), seed, 0.6)


def _downscale(roi: np.ndarray, face_width: float, target: float) -> tuple[np.ndarray, float]:
    f = max(1.0, face_width / target)
    if f <= 1.05:
        return roi, 1.0
    size = (max(1, round(roi.shape[1] / f)), max(1, round(roi.shape[0] / f)))
    return cv2.resize(roi, size, interpolation=cv2.INTER_AREA), f


def _upscale(small: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if small.shape[:2] == shape[:2]:
        return small
    return cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


def painting(roi: np.ndarray, face: np.ndarray, ring: np.ndarray, face_width: float, seed: int) -> np.ndarray:
    small, _ = _downscale(roi, face_width, 200.0)
    strokes = cv2.edgePreservingFilter(small, flags=cv2.RECURS_FILTER, sigma_s=12, sigma_r=0.2)
    # Palette: pull luminance a little towards a few levels, as paint is
    # mixed in a handful of tones rather than a continuous ramp.
    lab = cv2.cvtColor(strokes, cv2.COLOR_RGB2LAB).astype(np.float32)
    step = 255.0 / 12
    q = (np.floor(lab[..., 0] / step) + 0.5) * step
    lab[..., 0] = 0.75 * lab[..., 0] + 0.25 * q
    strokes = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    out = _upscale(strokes, roi.shape)
    out = with_likeness_trace(out, roi, face, face_width, 0.35)
    want, have = grain_level(roi, ring, 1.5), grain_level(out, face, 1.5)
    return _add_grain(out, float(np.sqrt(max(0.0, want * want - have * have))), seed, 1.0)


def _ink(roi: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """The darkest colour of the picture around the face (its line work), as float32 RGB."""
    pixels = roi[ring] if ring.sum() >= 20 else roi.reshape(-1, 3)
    lum = pixels.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    dark = pixels[lum <= np.percentile(lum, 3)]
    return dark.mean(0).astype(np.float32) if len(dark) else np.zeros(3, np.float32)


def animation(roi: np.ndarray, face: np.ndarray, ring: np.ndarray, face_width: float) -> np.ndarray:
    small, _ = _downscale(roi, face_width, 160.0)
    # Flat regions that follow the face's own shapes (mean shift joins
    # pixels of like colour nearby), not bands that follow the photo's
    # lighting: luminance snapped to global levels read as a posterised
    # photo. A light edge-preserving pass first removes skin texture.
    smooth = cv2.edgePreservingFilter(small, flags=cv2.RECURS_FILTER, sigma_s=10, sigma_r=0.25)
    flat = cv2.pyrMeanShiftFiltering(smooth, 6, 14)
    # Shading in two soft tones, as a cel is painted: each pixel moves
    # halfway towards the lit or the shaded tone of its region.
    lab = cv2.cvtColor(flat, cv2.COLOR_RGB2LAB).astype(np.float32)
    base = cv2.GaussianBlur(lab[..., 0], (0, 0), 6.0)
    lit = lab[..., 0] >= base
    lab[..., 0] = 0.6 * lab[..., 0] + 0.4 * np.where(lit, base + 6.0, base - 6.0)
    flat = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    # XDoG outlines on the small image: the face's strongest dark edges (its
    # own strongest tenth, so a faint face on a pale drawing is inked as
    # firmly as a contrasty one), drawn in the picture's own ink (its
    # darkest colour around the face).
    g = _gray(small)
    dog = cv2.GaussianBlur(g, (0, 0), 1.0) - 0.98 * cv2.GaussianBlur(g, (0, 0), 1.6)
    size = (small.shape[1], small.shape[0])
    small_face = cv2.resize(face.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    edge = -dog[small_face] if small_face.any() else -dog.ravel()
    start = max(1.0, float(np.percentile(edge, LINE_PERCENTILE)))
    ink_weight = np.clip((-dog - start) / start, 0.0, 1.0).astype(np.float32)
    lines = _upscale(ink_weight, roi.shape)[..., None] * INK_OPACITY
    ink = _ink(roi, ring)
    out = _upscale(flat, roi.shape).astype(np.float32) * (1.0 - lines) + ink * lines
    # A little of the fine detail survives, as in hand-inked cels of a real
    # person: without it the likeness goes with the texture.
    return with_likeness_trace(out, roi, face, face_width, 0.3)


def harmonise(roi: np.ndarray, theme: str, face: np.ndarray, ring: np.ndarray, face_width: float,
              seed: int = 0) -> np.ndarray:
    """Styled copy of `roi`; `face` and `ring` are bool masks in the ROI."""
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}")
    if theme == "painting":
        return painting(roi, face, ring, face_width, seed)
    if theme == "animation":
        return animation(roi, face, ring, face_width)
    return photo_match(roi, face, ring, face_width, seed)
