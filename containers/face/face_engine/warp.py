"""Piecewise-affine warp of one face onto another face's geometry.

Each triangle of the mesh gets its own affine map. Instead of warping
triangle by triangle (hundreds of small warpAffine calls and visible seams
along shared edges), we rasterise a triangle-id image over the target ROI,
build one dense (map_x, map_y) from the per-triangle affines, and sample the
source once with cv2.remap.
"""

from __future__ import annotations

import cv2
import numpy as np

from .restore import unsharp


def triangle_affines(src_pts: np.ndarray, dst_pts: np.ndarray, tris: np.ndarray,
                     src_tris: np.ndarray | None = None) -> np.ndarray:
    """(T, 2, 3) affine maps taking dst-space points to src-space points, per triangle.

    src_tris (T, 3, 2), when given, overrides the source corners per triangle
    (see mirror_sources).
    """
    d = dst_pts[tris][:, :, :2].astype(np.float64)  # T,3,2
    s = (src_pts[tris][:, :, :2] if src_tris is None else src_tris).astype(np.float64)
    dh = np.concatenate([d, np.ones(d.shape[:2] + (1,))], axis=2)  # T,3,3 rows [x y 1]
    det = np.linalg.det(dh)
    ok = np.abs(det) > 1e-6
    m = np.zeros((len(tris), 2, 3))
    # Solve dh @ X = s  ->  X (3x2) = dh^-1 s ; the affine is X^T.
    m[ok] = np.linalg.solve(dh[ok], s[ok]).transpose(0, 2, 1)
    return m


def dense_maps(
    src_pts: np.ndarray, dst_pts: np.ndarray, tris: np.ndarray, roi: tuple[int, int, int, int],
    src_tris: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """map_x, map_y (float32) and a covered mask (bool) for the dst ROI (x0, y0, x1, y1).

    map_x[y, x] is the source x of dst pixel (x0 + x, y0 + y). Pixels not
    inside any triangle are marked uncovered and map to -1.
    """
    x0, y0, x1, y1 = roi
    h, w = y1 - y0, x1 - x0
    aff = triangle_affines(src_pts, dst_pts, tris, src_tris)
    ids = np.zeros((h, w), np.int32)
    d = np.round((dst_pts[:, :2] - [x0, y0]) * 16).astype(np.int32)
    valid = np.abs(np.linalg.det(np.concatenate(
        [dst_pts[tris][:, :, :2], np.ones((len(tris), 3, 1))], axis=2))) > 1e-6
    for t in np.nonzero(valid)[0]:
        cv2.fillConvexPoly(ids, d[tris[t]], int(t) + 1, lineType=cv2.LINE_8, shift=4)
    covered = ids > 0
    a = aff[np.maximum(ids - 1, 0)].astype(np.float32)  # h,w,2,3
    gx, gy = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
    map_x = a[..., 0, 0] * gx + a[..., 0, 1] * gy + a[..., 0, 2]
    map_y = a[..., 1, 0] * gx + a[..., 1, 1] * gy + a[..., 1, 2]
    map_x[~covered] = -1
    map_y[~covered] = -1
    return map_x, map_y, covered


def mirror_sources(src_pts: np.ndarray, tris: np.ndarray, mirror: np.ndarray, shape: tuple[int, ...],
                   margin: float = 1.0) -> tuple[np.ndarray, int]:
    """Per-triangle source corners (T, 3, 2), with triangles the photo cuts off taken from the face's other half.

    A visitor photo that cuts one side of the face off (the face at the
    image's edge) would otherwise sample the border. Faces are close to
    symmetric, so such a triangle samples its mirror triangle instead (the
    corner order is kept, which flips the texture as the mirror requires).
    Returns the corners and how many triangles were mirrored.
    """
    h, w = shape[:2]
    xy = src_pts[:, :2]
    inside = (xy[:, 0] >= -margin) & (xy[:, 0] <= w - 1 + margin) & (xy[:, 1] >= -margin) & (xy[:, 1] <= h - 1 + margin)
    out = xy[tris].copy()
    cut = ~inside[tris].all(1)
    usable = cut & inside[mirror[tris]].all(1)
    out[usable] = xy[mirror[tris[usable]]]
    return out, int(usable.sum())


def warp_image(
    src: np.ndarray, map_x: np.ndarray, map_y: np.ndarray, interpolation: int = cv2.INTER_CUBIC
) -> np.ndarray:
    # Reflect at the border: a visitor crop that cuts the chin still gives
    # plausible pixels to the feathered edge instead of black.
    return cv2.remap(src, map_x, map_y, interpolation, borderMode=cv2.BORDER_REFLECT101)


def rescale_source(src: np.ndarray, pts: np.ndarray, scale: float, box: tuple[int, int, int, int]
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Crop `box` from src and resize it by `scale` before the warp; returns (image, points).

    Bringing the visitor's face to the portrait's scale first means the warp
    itself samples close to 1:1. Shrinking uses area averaging (no aliasing);
    enlarging uses Lanczos plus an unsharp mask, so a small visitor face is
    upscaled with its detail rather than stretched.
    """
    x0, y0, x1, y1 = box
    crop = src[y0:y1, x0:x1]
    pts = (pts[:, :2] - [x0, y0]) * scale
    if abs(scale - 1.0) < 0.05:
        return crop, pts
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    if scale < 1:
        return cv2.resize(crop, size, interpolation=cv2.INTER_AREA), pts
    up = cv2.resize(crop, size, interpolation=cv2.INTER_LANCZOS4)
    # Unsharp mask grows with the upscale factor, capped so it never rings.
    return unsharp(up, max(0.8, 0.6 * scale), min(0.8, 0.5 * float(np.log2(scale)))), pts
