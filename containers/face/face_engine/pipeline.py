"""The classical engine: the swap and the restore behind the SageMaker models.

engine.swap and engine.restore are the entry points (the model server's and
`gallery swap`'s); they run these unless learned weights are installed
(onnx_backend).

swap_images(visitor, portrait, theme)      finds both faces, then swap_detected
swap_detected(visitor, vf, portrait, pf)    for faces already found:
    warp    the visitor's face onto the portrait's mesh, piecewise affine,
            after bringing it to the portrait's scale (Lanczos + unsharp when
            enlarging, area averaging when shrinking)
    colour  each face's lighting field on its own skin; the portrait's field
            with the visitor's detail, the portrait's skin colour plus what
            the visitor keeps of their own tone (colour.py)
    blend   feathered alpha inside the brows-to-chin polygon, minus what
            covers the portrait's face and the visitor's hair (on a clean
            drawing, its drawn hair kept whole and its drawn features removed
            whole: drawing.py); the outline's low frequencies brought to the
            portrait's, the finest texture rising over the feather (blend.py)
restore_image(image, theme, face_mesh)      finds the face again without the mesh hint
restore_region(image, mesh, theme, shrink)  inside the swap polygon:
    restore light denoise + sharpen
    harmonise  theme style (grain, brush texture, drawn look), last of all

Harmonisation belongs to restore because it must be the final step: a
learned restorer (GFPGAN-style, onnx_backend) repaints a photographic face,
which would undo a painted or cartoon look applied before it.

Every stage only writes inside the face alpha; all other pixels are copied,
so they stay bit-for-bit identical to the input.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import cv2
import numpy as np

from . import blend, colour, drawing, warp
from . import harmonise as hz
from . import landmarks as lm
from . import mesh as fm
from .checks import require_usable
from .detect import detect_faces
from .face import Face
from .geometry import grown, roi_of
from .restore import denoise_sharpen

THEMES = hz.THEMES
RESTORE_SHRINK = 0.9
# Feather width as a share of the face width (the linear ramp spans twice
# this). Wider ramps measured weaker likeness (median dlib distance 0.444
# at 0.04, 0.452 at 0.05, 0.461 at 0.06 over 72 pairs); the outline
# correction (blend.outline_correction) and the texture rising over the
# ramp keep the edge from showing instead. 0.035 against 0.04: realistic
# 0.435 -> 0.425 with seam p90 1.027 -> 1.032 (306 results), painting and
# animation 0.470 -> 0.465 with 1.016 -> 1.021 (612); at 0.03 the
# realistic seam p90 was 1.041-1.046.
FEATHER = 0.035
# Beyond the face's centre (eyes, nose, mouth), the band over which the
# lighting field goes from the visitor-keeping coarse one to the fine one.
INNER_BAND = 0.1
# The lighting field's scale near the outline and over the face's centre,
# as shares of the face width.
FIELD, INNER_FIELD = 0.1, 0.2
# Below the eyes, what covers the portrait's face is told from stubble and
# lipstick by lying this far from its skin colour (skin_distance, sigmas).
FAR_NEAR, FAR = 6.0, 8.0
# Near the outline (a share of the face width) the visitor's non-skin pixels
# (background, hair, an ear) give way to the portrait.
OUTLINE_BAND = 0.2
# Painting: the portrait's colour is taken at this finer scale (a share of
# the face width), so patches of paint colour on its face carry over.
PAINT_CHROMA = 0.04
# How softly what covers a face is let through (a share of the face width):
# a brim or fringe keeps its edge, a patch misjudged as not skin leaves no cut.
SOFTEN = 0.035
# Alpha below this counts as the picture, not the new face, when the outline
# correction measures where the two meet.
SHOWN = 0.05


class _Timer:
    def __init__(self) -> None:
        self.t = time.perf_counter()
        self.out: dict[str, float] = {}

    def lap(self, name: str) -> None:
        """Adds the time since the last lap to `name` (a stage may run in parts)."""
        now = time.perf_counter()
        self.out[name] = round(self.out.get(name, 0.0) + (now - self.t) * 1000.0, 2)
        self.t = now


def check_rgb(rgb: np.ndarray, name: str) -> np.ndarray:
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"{name} must be an HxWx3 uint8 RGB array")
    return np.ascontiguousarray(rgb)


def check_theme(theme: str) -> None:
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}; expected one of {', '.join(THEMES)}")


# Catalog portraits repeat across visits; their detection is cached by content.
# The key is SHA-256, which CPUs hash in hardware: 2.0 ms for a 1024 px
# portrait where BLAKE2b took 7.5 ms, on every swap.
_cache: OrderedDict[str, list[Face]] = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 64


def portrait_faces(rgb: np.ndarray) -> list[Face]:
    key = hashlib.sha256(np.ascontiguousarray(rgb).data.cast("B")).hexdigest() + str(rgb.shape)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    faces = detect_faces(rgb)
    with _cache_lock:
        _cache[key] = faces
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return faces


def _skin_or_shape(shape: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """The skin-coloured part of a face's skin polygon, or all of it when little is.

    Little is on a flat-lit or monochrome oddity, where colour cannot tell skin apart.
    """
    skin = shape & (prob > 0.5)
    return skin if skin.sum() >= 0.2 * shape.sum() else shape


def skin_mask(mesh: np.ndarray, roi: tuple[int, int, int, int]) -> np.ndarray:
    """bool: inside the swap polygon and outside eyes, brows, lips, nostrils."""
    x0, y0, x1, y1 = roi
    shape = (y1 - y0, x1 - x0)
    m = fm.fill(fm.swap_polygon(mesh), shape, (x0, y0)) > 0
    for p in fm.features_polygons(mesh):
        m &= fm.fill(p, shape, (x0, y0)) == 0
    return m


def _patches(mesh: np.ndarray, roi: tuple[int, int, int, int], patches: tuple[list[int], ...]) -> np.ndarray:
    """bool over the ROI: the union of the mesh polygons named by `patches` (landmark index lists)."""
    x0, y0, x1, y1 = roi
    shape = (y1 - y0, x1 - x0)
    m = np.zeros(shape, bool)
    for idx in patches:
        m |= fm.fill(mesh[idx, :2], shape, (x0, y0)) > 0
    return m


def core_skin_mask(mesh: np.ndarray, roi: tuple[int, int, int, int]) -> np.ndarray:
    """bool: cheeks and nose, the surest skin of a face, to sample its colour from."""
    return _patches(mesh, roi, (lm.CHEEK_L_CORE, lm.CHEEK_R_CORE, lm.NOSE_CORE))


def tone_mask(mesh: np.ndarray, roi: tuple[int, int, int, int]) -> np.ndarray:
    """bool: cheeks and forehead, where a face's skin colour is read (the crop step reads its tone there too)."""
    return _patches(mesh, roi, (lm.CHEEK_L_CORE, lm.CHEEK_R_CORE, lm.FOREHEAD_CORE))


def _height_above_eyes(mesh: np.ndarray, roi: tuple[int, int, int, int]) -> np.ndarray:
    """float32 per ROI pixel: its distance above the line through the eye centres, along the face's own up."""
    x0, y0, x1, y1 = roi
    eyes = np.array([mesh[lm.EYE_L, :2].mean(0), mesh[lm.EYE_R, :2].mean(0)])
    centre = eyes.mean(0)
    up = centre - mesh[lm.CHIN, :2]
    up /= np.linalg.norm(up) + 1e-9
    gx, gy = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
    return (gx - centre[0]) * up[0] + (gy - centre[1]) * up[1]


def _lips(mesh: np.ndarray, roi: tuple[int, int, int, int], grow: float) -> np.ndarray:
    """bool: the portrait's lips grown by `grow` px, whose colour (lipstick) must not survive the swap."""
    x0, y0, x1, y1 = roi
    return grown(fm.fill(mesh[lm.LIPS_OUTER, :2], (y1 - y0, x1 - x0), (x0, y0)), grow)


def core_mask(mesh: np.ndarray, roi: tuple[int, int, int, int]) -> np.ndarray:
    """bool: the face's centre (eyes, nose, mouth and between) that is always replaced."""
    x0, y0, x1, y1 = roi
    xy = mesh[:, :2]
    idx = lm.EYE_L + lm.EYE_R + lm.LIPS_OUTER + lm.BROW_L[:5] + lm.BROW_R[:5] + [1, 2, 98, 327, 168]
    hull = cv2.convexHull(xy[idx].astype(np.float32)).reshape(-1, 2)
    c = hull.mean(0)
    return fm.fill(c + (hull - c) * 1.05, (y1 - y0, x1 - x0), (x0, y0)) > 0


def swap_images(visitor_rgb: np.ndarray, portrait_rgb: np.ndarray, theme: str
                ) -> tuple[np.ndarray, dict[str, float], np.ndarray]:
    """Find both faces and put the visitor's on the portrait's largest one.

    Returns (image, timings in ms, the portrait face's 468x3 mesh: the hint
    restore_image takes to work exactly where the swap did).
    """
    check_theme(theme)
    visitor_rgb = check_rgb(visitor_rgb, "visitor_rgb")
    portrait_rgb = check_rgb(portrait_rgb, "portrait_rgb")
    tm = _Timer()
    vf = require_usable(detect_faces(visitor_rgb), "visitor")
    pf = require_usable(portrait_faces(portrait_rgb), "portrait")
    tm.lap("detect")
    out, stages = swap_detected(visitor_rgb, vf, portrait_rgb, pf, theme)
    tm.out.update(stages)
    tm.out["total"] = round(sum(tm.out.values()), 2)
    return out, tm.out, pf.mesh


def swap_detected(visitor_rgb: np.ndarray, vf: Face, portrait_rgb: np.ndarray, pf: Face, theme: str = "realistic"
                  ) -> tuple[np.ndarray, dict[str, float]]:
    """The swap proper, for faces already detected (swap_images finds them)."""
    tm = _Timer()
    roi = roi_of(fm.swap_polygon(pf.mesh), portrait_rgb.shape)
    x0, y0, x1, y1 = roi
    scale = float(np.clip(pf.face_width / max(vf.face_width, 1.0), 0.05, 8.0))
    # Only the visitor's face (plus a margin for the resampling kernel) is rescaled.
    vroi = roi_of(fm.region_polygon(vf.mesh), visitor_rgb.shape, margin=0.1 * vf.face_width)
    src, spts = warp.rescale_source(visitor_rgb, vf.mesh, scale, vroi)
    dst = fm.target_mesh(vf.mesh, pf.mesh)
    src_tris, _ = warp.mirror_sources(spts, fm.triangles(), fm.mirror(), src.shape)
    map_x, map_y, covered = warp.dense_maps(spts, dst, fm.triangles(), roi, src_tris)
    warped = warp.warp_image(src, map_x, map_y)
    tm.lap("warp")
    base = portrait_rgb[y0:y1, x0:x1]
    # Skin in both faces: the portrait's features and the visitor's (now at
    # their target positions) are left out, and so is whatever is not
    # skin-coloured (the portrait's hair or hat inside the polygon, the
    # visitor's beard or glasses), so that it neither darkens the lighting
    # field nor gets replaced by it.
    dst3 = np.concatenate([dst, pf.mesh[:, 2:]], axis=1)
    seed = core_skin_mask(pf.mesh, roi)
    scale = max(1.0, pf.face_width / 128.0)
    p_dist = colour.skin_distance(base, seed, scale)
    p_skin = colour.probability(p_dist)
    v_seed = seed & covered
    v_dist = colour.skin_distance(warped, v_seed, scale)
    v_skin = colour.probability(v_dist)
    portrait_skin = _skin_or_shape(skin_mask(pf.mesh, roi), p_skin)
    visitor_skin = _skin_or_shape(skin_mask(dst3, roi) & covered, v_skin)
    # The lighting field is the portrait's at a tenth of the face width near
    # the outline (so the edge meets the portrait's lighting) and at a fifth
    # over the face's centre, where the visitor keeps the shading that models
    # their nose, cheekbones and brow (a tenth everywhere took those from the
    # portrait and measured a worse likeness). Not for animation: its cel
    # shading snaps that shading to hard dark bands (a nose-long shadow)
    # that read less as a face, to the detector too.
    core = core_mask(pf.mesh, roi)
    inner = None
    if theme != "animation":
        band = max(1.0, INNER_BAND * pf.face_width)
        dist_out = cv2.distanceTransform(255 - core.astype(np.uint8) * 255, cv2.DIST_L2, 3)
        inner = np.clip(1.0 - dist_out / band, 0.0, 1.0)
    tm.lap("colour")
    # Inside both outlines: where the visitor's face is narrower than the
    # portrait's, the portrait's own cheek shows rather than whatever lay
    # beside the visitor's face (an ear, the background).
    # The visitor's outline is taken where it really is in the visitor's
    # photo (warped like the pixels), which matters most on the far side of
    # a turned face, where the mesh's edge already touches hair or background.
    vmesh = np.concatenate([spts, vf.mesh[:, 2:] * scale], axis=1)
    vpoly = fm.fill(fm.swap_polygon(vmesh), src.shape[:2])
    portrait_face = fm.fill(fm.swap_polygon(pf.mesh), base.shape[:2], (x0, y0))
    hard = portrait_face.copy()
    # Mirrored triangles come from inside the photo; anything still sampled
    # off its edge is left out (the maps reflect at the border).
    in_photo = (map_x >= 0) & (map_x <= src.shape[1] - 1) & (map_y >= 0) & (map_y <= src.shape[0] - 1)
    hard &= warp.warp_image(vpoly, map_x, map_y, cv2.INTER_NEAREST) * in_photo.astype(np.uint8)
    alpha = blend.feather_inside(hard, max(1.5, FEATHER * pf.face_width))
    alpha *= covered
    # What covers the portrait's face stays in front of the new one: hair
    # over the forehead or a cheek, a hat brim, a hand, a full beard. Above
    # the eyes anything not skin-coloured counts; below them only what is
    # far from skin, so that the portrait's stubble, beard shadow and
    # lipstick round the mouth are replaced by the visitor's own skin.
    height = _height_above_eyes(pf.mesh, roi)
    eyes_to_mouth = float(np.linalg.norm(pf.mesh[lm.MOUTH_L, :2] + pf.mesh[lm.MOUTH_R, :2]
                                         - pf.mesh[lm.EYE_L, :2].mean(0) - pf.mesh[lm.EYE_R, :2].mean(0)) / 2)
    upper = height > 0
    covering = np.where(upper, p_skin, colour.probability(p_dist, FAR_NEAR, FAR))
    keep = core | _lips(pf.mesh, roi, 0.04 * pf.face_width)
    soften = SOFTEN * pf.face_width
    # A clean drawing keeps its hair in front whole and loses its own
    # features whole, ghosts of them outside the mesh's included.
    held = None
    if drawing.is_clean(base, portrait_face > 0):
        held, removed = drawing.regions(base, p_skin, portrait_face, pf.mesh, (x0, y0), pf.face_width)
        base = drawing.without(base, removed, p_skin, pf.face_width)
        covering = np.where(removed, 1.0, covering).astype(np.float32)
    alpha = blend.protect_non_skin(alpha, covering, keep, soften=soften, held=held)
    # The visitor's own hair (a low hairline, curls at the temples) and
    # whatever lay beside their face (background, an ear) are not brought
    # along either: above the eyes, and near the outline down to the mouth,
    # where the visitor's warped pixels are not skin, the portrait shows
    # through. Inside the lower face a beard or moustache is part of the
    # likeness, so it stays.
    edge_dist = cv2.distanceTransform(hard, cv2.DIST_L2, 3)
    outline = (edge_dist < OUTLINE_BAND * pf.face_width) & (height > -eyes_to_mouth)
    # Above the eyes brown hair is told from the forehead by its brightness
    # too; near the outline only by colour, as the shadowed side of a face
    # is still skin.
    v_hair = colour.probability(colour.skin_distance(warped, v_seed, scale, lum_weight=1.0))
    visitor_covering = np.where(upper, np.minimum(v_skin, v_hair), np.where(outline, v_skin, 1.0))
    # Only the visitor's own features are kept whatever their colour (and a
    # margin, so the softening does not eat into them): hair over the
    # brows is hair, inside the face's centre as well.
    drawn = np.zeros(base.shape[:2], np.uint8)
    for poly in fm.features_polygons(dst3, brow_grow=1.25):
        drawn |= fm.fill(poly, base.shape[:2], (x0, y0))
    features = grown(drawn, 2 * soften)
    alpha = blend.protect_non_skin(alpha, visitor_covering.astype(np.float32), features, soften=soften)
    tm.lap("blend")
    # The result's skin colour is read on its cheeks and forehead, where the
    # portrait shows skin and the new face shows: all of the visitor's skin
    # there, its shadows and smile folds included, but not what is far from
    # skin (a beard, the rim of glasses).
    tone_weight = alpha * (tone_mask(pf.mesh, roi) & portrait_skin) * colour.probability(v_dist, FAR_NEAR, FAR)
    matched = colour.match(warped, base, visitor_skin, portrait_skin, sigma=max(2.0, FIELD * pf.face_width),
                           inner=inner, inner_sigma=max(2.0, INNER_FIELD * pf.face_width),
                           chroma_sigma=max(2.0, PAINT_CHROMA * pf.face_width) if theme == "painting" else None,
                           tone_weight=tone_weight)
    tm.lap("colour")
    # The new face meets the picture along the polygon's outline and also
    # along whatever the portrait keeps in front inside it: the skin in a
    # fringe's or brim's shadow is corrected as at the outline, so the new
    # forehead does not end in a bright strip against the hair.
    shown = (alpha > SHOWN).astype(np.uint8) * 255
    shown_dist = cv2.distanceTransform(shown, cv2.DIST_L2, 3)
    matched = blend.outline_correction(base, matched, shown_dist, p_skin, pf.face_width)
    # Where the feather mixes the two pictures the new face's finest texture
    # (pores, a photo's noise) would show as a speckled rim on a smooth or
    # flat portrait; it rises over the feather's ramp instead.
    smooth = cv2.GaussianBlur(matched, (0, 0), max(1.0, pf.face_width / 128.0))
    matched = blend.with_detail_rising(smooth, matched, blend.rise_from_edge(shown_dist, 2.0 * FEATHER * pf.face_width))
    out = portrait_rgb.copy()
    out[y0:y1, x0:x1] = blend.composite(base, matched, alpha)
    tm.lap("blend")
    return out, tm.out


def restore_image(rgb: np.ndarray, theme: str, face_mesh: np.ndarray | None = None,
                  learned: Callable[[np.ndarray, np.ndarray, float], np.ndarray] | None = None
                  ) -> tuple[np.ndarray, dict[str, float]]:
    """Denoise, sharpen and harmonise the largest face; other pixels unchanged.

    face_mesh: the portrait face's mesh from swap_images (the server
    carries it inside the swap's PNG). With it, restore works exactly inside
    the region the swap replaced and skips detection; without it, it finds
    the face again.
    learned: a learned restorer (image, mesh, shrink) -> image, run instead
    of the classical denoise and sharpen; harmonisation still comes last.
    """
    check_theme(theme)
    rgb = check_rgb(rgb, "rgb")
    tm = _Timer()
    if face_mesh is not None:
        face_mesh = np.asarray(face_mesh, np.float64)
        if face_mesh.shape != (468, 3) or not np.isfinite(face_mesh).all():
            raise ValueError("face_mesh must be a finite 468x3 array")
        mesh = face_mesh
        shrink = 1.0
    else:
        faces = detect_faces(rgb)
        tm.lap("detect")
        if not faces:
            # Nothing to restore; restore never refuses (the swap already checked).
            return rgb.copy(), tm.out
        mesh = faces[0].mesh
        # The face found here carries the visitor's outline, which the swap
        # moved part of the way from the portrait's; restoring inside a
        # polygon shrunk by 10% keeps every change inside the portrait's
        # face region.
        shrink = RESTORE_SHRINK
    if learned is not None:
        rgb = learned(rgb, mesh, shrink)
        tm.lap("learned_restore")
    out, stages = restore_region(rgb, mesh, theme, shrink, denoise=learned is None)
    tm.out.update(stages)
    tm.out["total"] = round(sum(tm.out.values()), 2)
    return out, tm.out


def restore_region(rgb: np.ndarray, mesh: np.ndarray, theme: str, shrink: float = 1.0, denoise: bool = True
                   ) -> tuple[np.ndarray, dict[str, float]]:
    """Restore then harmonise inside the (shrunk) swap polygon of `mesh`.

    denoise=False when a learned restorer already ran: only harmonise.
    """
    tm = _Timer()
    fw = fm.face_width(mesh)
    # A wider ROI than the face, for the ring the harmonisation measures.
    roi, alpha = blend.restore_alpha(mesh, rgb.shape, shrink, margin=0.25 * fw)
    x0, y0, x1, y1 = roi
    base = rgb[y0:y1, x0:x1]
    restored = denoise_sharpen(base, fw) if denoise else base
    tm.lap("restore")
    region = fm.fill(fm.region_polygon(mesh), base.shape[:2], (x0, y0))
    dist_out = cv2.distanceTransform(255 - region, cv2.DIST_L2, 3)
    ring = (region == 0) & (dist_out < 0.15 * fw)
    styled = hz.harmonise(restored, theme, face=alpha > 0.5, ring=ring, face_width=fw,
                          seed=int(rgb.shape[0] * 7919 + rgb.shape[1]))
    out = rgb.copy()
    out[y0:y1, x0:x1] = blend.composite(base, styled, alpha)
    tm.lap("harmonise")
    return out, tm.out


def warmup() -> None:
    """Load every model and table once so the first request is as fast as the rest."""
    from .detect import _run_detector, _run_mesh

    blank = np.full((256, 256, 3), 128, np.uint8)
    _run_detector(blank)
    _run_mesh(blank, np.array([128.0, 128.0]), 200.0, 0.0)
    fm.triangles()
