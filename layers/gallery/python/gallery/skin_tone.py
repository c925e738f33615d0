"""The visitor's skin tone, measured on the face: the Individual Typology Angle (ITA°).

ITA° = atan((L* - 50) / b*) * 180 / pi, on the CIELAB (D65) colour of skin pixels. It is the
dermatologists' colorimetric measure; its six bands are the groups the gallery uses:

    1 very light  ITA > 55      4 tan           10 < ITA <= 28
    2 light       41 < ITA <= 55  5 brown       -30 < ITA <= 10
    3 intermediate 28 < ITA <= 41 6 dark        ITA <= -30

How: the face box (given, or the centre half of a crop made with crop.PADDING) is sampled on the
two cheeks and the forehead (below/above the eyes when eye landmarks are given), so eyes, brows,
mouth, nostrils, hair and background mostly fall outside. Inside those patches a pixel counts as
skin when its hue is skin-like (a* and b* positive, hue angle 15..85 degrees, some chroma), it is
neither a specular highlight nor deep shadow (the top and bottom 10 % of L* are dropped), and it
lies near the patches' robust centre (|Lab - median| < 3 MADs), which removes bangs, glasses and
make-up edges. ITA is taken from the median L* and median b* of what remains.

Confidence ("high" | "medium" | "low" | "none", with a number in 0..1): high needs at least
400 skin pixels, at least 35 % of the sampled patches kept, and ITA at least 4 degrees from a
band edge; medium has the pixels but sits near an edge (the neighbouring group is as likely);
low has few pixels or little kept. Limits: ITA measures the photo, not the person. Lighting colour
and camera white balance move b* and exposure moves L*: a warm indoor bulb or an over-exposed
flash photo shifts ITA by 10 degrees or more, which is a whole band. Painted or stylised faces
(Fauvist colours, cartoons) give a number that describes paint. A greyscale photo has no tone at
all: when the sampled pixels' median chroma is below MONOCHROME_CHROMA the result is
`ita: None, group: None, confidence: "none", reason: "monochrome"`. A sepia-toned print is NOT
caught (its hue range overlaps real close-ups on warm backgrounds) and gets the print's tone.
Measured on the sample photos (bench/skin_tone.py): four photos of one man span ITA 9 to 43, and
one of another man reads -5 in dim light against 53 in a bright one, so a single photo places a
visitor within about one band at best; "confidence" speaks only of pixels and band edges, not
of lighting. Treat the group as a default the visitor can change, not a fact.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from PIL import Image

GROUPS = ("very light", "light", "intermediate", "tan", "brown", "dark")
# Lower bound of each group but the last, in ITA degrees (Chardon et al. 1991; Del Bino 2006).
EDGES = (55.0, 41.0, 28.0, 10.0, -30.0)
MONOCHROME_CHROMA = 4.0  # median C*ab below this: no colour to measure (JPEG noise is ~1-2)
MIN_PIXELS = 400
MIN_KEPT = 0.35
EDGE_MARGIN = 4.0
WORK_SIDE = 256  # the face box is resampled to this size: enough pixels, stable cost

Box = tuple[float, float, float, float]

# Patches as fractions of a face box (left, top, right, bottom), for a Rekognition-like box from
# the brow line or forehead to the chin.
_PATCHES: tuple[Box, ...] = (
    (0.14, 0.50, 0.38, 0.68),  # left cheek, below the eye and beside the nose
    (0.62, 0.50, 0.86, 0.68),  # right cheek
    (0.32, 0.06, 0.68, 0.20),  # forehead, above the brows
)


def group_of(ita: float) -> tuple[int, str]:
    """Group number (1..6) and name of an ITA angle."""
    for i, edge in enumerate(EDGES):
        if ita > edge:
            return i + 1, GROUPS[i]
    return 6, GROUPS[5]


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (uint8, ... x 3) to CIELAB under D65, float64 ... x 3."""
    c = rgb.astype(np.float64) / 255.0
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array(
        [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
    )
    xyz = c @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def lab_to_srgb(lab: Sequence[float]) -> tuple[int, int, int]:
    """CIELAB (D65) to the nearest sRGB colour; used to make test images of known ITA."""
    L, a, b = lab  # noqa: N806 - colour-science names
    fy = (L + 16) / 116
    f = np.array([fy + a / 500, fy, fy - b / 200])
    xyz = np.where(f > 6 / 29, f**3, 3 * (6 / 29) ** 2 * (f - 4 / 29)) * np.array([0.95047, 1.0, 1.08883])
    m = np.array(
        [[3.2404542, -1.5371385, -0.4985314], [-0.9692660, 1.8760108, 0.0415560], [0.0556434, -0.2040259, 1.0572252]]
    )
    c = np.clip(m @ xyz, 0, 1)
    c = np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)
    r, g, bl = (int(round(v * 255)) for v in c)
    return r, g, bl


def _patches(box: Box, landmarks: Mapping[str, Sequence[float]] | None) -> list[Box]:
    left, top, right, bottom = box
    w, h = right - left, bottom - top
    eyes = [landmarks[k] for k in ("eyeLeft", "eyeRight") if landmarks and k in landmarks]
    if len(eyes) < 2:
        return [(left + x0 * w, top + y0 * h, left + x1 * w, top + y1 * h) for x0, y0, x1, y1 in _PATCHES]
    # With the eyes known, the cheeks sit under each eye and the forehead above their midpoint,
    # whatever the box's own convention.
    (lx, ly), (rx, ry) = sorted((float(e[0]), float(e[1])) for e in eyes)
    d = max(rx - lx, 1.0)
    eye_y = (ly + ry) / 2
    return [
        (lx - 0.30 * d, eye_y + 0.30 * d, lx + 0.20 * d, eye_y + 0.65 * d),
        (rx - 0.20 * d, eye_y + 0.30 * d, rx + 0.30 * d, eye_y + 0.65 * d),
        ((lx + rx) / 2 - 0.35 * d, eye_y - 0.85 * d, (lx + rx) / 2 + 0.35 * d, eye_y - 0.45 * d),
    ]


def skin_patches(
    size: tuple[int, int], face_box: Box | None = None, landmarks: Mapping[str, Sequence[float]] | None = None
) -> list[tuple[int, int, int, int]]:
    """Pixel boxes sampled for skin, clipped to the image. Without a face box the image is taken
    as a face crop made by crop.crop_face (the face fills its centre half)."""
    width, height = size
    box = face_box or (width / 4, height / 4, width * 3 / 4, height * 3 / 4)
    out = []
    for x0, y0, x1, y1 in _patches(box, landmarks):
        cx0, cy0 = max(0, int(round(x0))), max(0, int(round(y0)))
        cx1, cy1 = min(width, int(round(x1))), min(height, int(round(y1)))
        if cx1 - cx0 >= 2 and cy1 - cy0 >= 2:
            out.append((cx0, cy0, cx1, cy1))
    return out


def _result(ita: float | None, confidence: str, score: float, **extra: object) -> dict:
    group = group_of(ita) if ita is not None else (None, None)
    return {"ita": ita, "group": group[0], "group_name": group[1], "confidence": confidence, "score": score, **extra}


def estimate(
    image: Image.Image,
    face_box: Box | None = None,
    landmarks: Mapping[str, Sequence[float]] | None = None,
) -> dict:
    """ITA° and group (1..6) of the face in `image`.

    face_box: pixel (left, top, right, bottom) of the face; None when `image` is a padded face
    crop. landmarks: pixel points by Rekognition's names ("eyeLeft", "eyeRight"), optional.
    Returns {ita, group, group_name, confidence, score, L, b, pixels, kept, reason}; ita and group
    are None when there is nothing to measure (reason says why)."""
    rgb = image.convert("RGB")
    boxes = skin_patches(rgb.size, face_box, landmarks)
    # Each patch is resampled so that a 4000 px photo and a 300 px crop cost and weigh the same.
    samples = []
    for box in boxes:
        bw, bh = box[2] - box[0], box[3] - box[1]
        scale = min(1.0, WORK_SIDE / 2 / max(bw, bh))
        patch = rgb.crop(box)
        if scale < 1.0:
            patch = patch.resize((max(2, round(bw * scale)), max(2, round(bh * scale))), Image.Resampling.BOX)
        samples.append(np.asarray(patch).reshape(-1, 3))
    if not samples:
        return _result(None, "none", 0.0, L=None, b=None, pixels=0, kept=0.0, reason="no face region")
    lab = srgb_to_lab(np.concatenate(samples))
    L, a, b = lab[:, 0], lab[:, 1], lab[:, 2]  # noqa: N806
    chroma = np.hypot(a, b)
    if float(np.median(chroma)) < MONOCHROME_CHROMA:
        return _result(None, "none", 0.0, L=float(np.median(L)), b=float(np.median(b)), pixels=0, kept=0.0,
                       reason="monochrome")  # fmt: skip
    hue = np.degrees(np.arctan2(b, a))
    lo, hi = np.percentile(L, [10, 90])
    mask = (a > 0) & (b > 0) & (hue > 15) & (hue < 85) & (chroma > MONOCHROME_CHROMA / 2) & (L >= lo) & (L <= hi)
    if mask.sum() >= 10:
        centre = np.median(lab[mask], axis=0)
        mad = np.median(np.abs(lab[mask] - centre), axis=0) * 1.4826 + 1.0
        mask &= np.all(np.abs(lab - centre) < 3 * mad, axis=1)
    n = int(mask.sum())
    kept = n / len(lab)
    if n < 10:
        return _result(None, "none", 0.0, L=None, b=None, pixels=n, kept=kept, reason="no skin-coloured pixels")
    l_med, b_med = float(np.median(L[mask])), float(np.median(b[mask]))
    ita = math.degrees(math.atan((l_med - 50.0) / b_med))
    margin = min(abs(ita - e) for e in EDGES)
    score = min(1.0, n / MIN_PIXELS) * min(1.0, kept / MIN_KEPT) * min(1.0, margin / EDGE_MARGIN)
    if n < MIN_PIXELS or kept < MIN_KEPT:
        confidence = "low"
    elif margin < EDGE_MARGIN:
        confidence = "medium"
    else:
        confidence = "high"
    return _result(round(ita, 1), confidence, round(score, 2), L=round(l_med, 1), b=round(b_med, 1), pixels=n,
                   kept=round(kept, 2), reason=None)  # fmt: skip
