"""The piecewise-affine warp moves known points where the meshes say."""

from __future__ import annotations

import cv2
import numpy as np
from _engine_path import ENGINE_DIR  # noqa: F401  (puts face_engine on sys.path)

from face_engine import warp


def _grid_mesh() -> tuple[np.ndarray, np.ndarray]:
    # A 3x3 grid of points and its 8 triangles.
    xs, ys = np.meshgrid([10.0, 50.0, 90.0], [10.0, 50.0, 90.0])
    pts = np.stack([xs.ravel(), ys.ravel()], axis=1)
    tris = []
    for r in range(2):
        for c in range(2):
            a, b, d, e = r * 3 + c, r * 3 + c + 1, (r + 1) * 3 + c, (r + 1) * 3 + c + 1
            tris += [[a, b, e], [a, e, d]]
    return pts, np.array(tris)


def test_triangle_affines_map_vertices_exactly() -> None:
    src, tris = _grid_mesh()
    rng = np.random.default_rng(1)
    dst = src + rng.uniform(-8, 8, src.shape)
    aff = warp.triangle_affines(src, dst, tris)
    for t, tri in enumerate(tris):
        for v in tri:
            got = aff[t] @ np.array([dst[v, 0], dst[v, 1], 1.0])
            np.testing.assert_allclose(got, src[v], atol=1e-9)


def test_dense_maps_are_piecewise_affine_and_continuous() -> None:
    src, tris = _grid_mesh()
    dst = src.copy()
    dst[4] = [60.0, 40.0]  # move the centre vertex only
    mx, my, covered = warp.dense_maps(src, dst, tris, (0, 0, 100, 100))
    # The moved centre samples the source centre.
    assert covered[40, 60]
    assert abs(mx[40, 60] - 50) < 1e-3 and abs(my[40, 60] - 50) < 1e-3
    # Corners of the grid are fixed points; outside the hull nothing is covered.
    assert abs(mx[10, 90] - 90) < 1e-3 and abs(my[10, 90] - 10) < 1e-3
    assert not covered[5, 5] and not covered[95, 50]
    # A point halfway along the edge from the (fixed) corner (10,10) to the
    # moved centre maps to halfway between their sources.
    assert abs(mx[25, 35] - 30) < 0.6 and abs(my[25, 35] - 30) < 0.6
    # No tears: neighbouring covered pixels map to neighbouring sources.
    jump = np.abs(np.diff(mx, axis=1))[covered[:, 1:] & covered[:, :-1]]
    assert jump.max() < 2.0


def test_warp_moves_a_dot_to_the_target_vertex() -> None:
    src, tris = _grid_mesh()
    dst = src.copy()
    dst[4] = [62.0, 38.0]
    img = np.zeros((100, 100, 3), np.uint8)
    img[50, 50] = 255  # one white pixel at the source's centre vertex
    mx, my, covered = warp.dense_maps(src, dst, tris, (0, 0, 100, 100))
    out = warp.warp_image(img, mx, my, cv2.INTER_NEAREST)
    out[~covered] = 0
    ys, xs = np.nonzero(out[..., 0])
    assert out[38, 62, 0] == 255
    # It lands only around the target vertex, nowhere else.
    assert np.all(np.abs(xs - 62) <= 1) and np.all(np.abs(ys - 38) <= 1)


def test_upscaling_preserves_detail_better_than_a_plain_stretch() -> None:
    rng = np.random.default_rng(0)
    # Fine texture (like skin pores) at the source resolution.
    src = cv2.GaussianBlur(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), (0, 0), 0.7)
    pts = np.array([[0.0, 0.0, 0.0], [63.0, 63.0, 0.0]])
    up, upts = warp.rescale_source(src, pts, 3.0, (0, 0, 64, 64))
    stretch = cv2.resize(src, up.shape[1::-1], interpolation=cv2.INTER_LINEAR)
    assert up.shape == stretch.shape == (192, 192, 3)
    np.testing.assert_allclose(upts[1], [189.0, 189.0])

    def detail(a: np.ndarray) -> float:
        return float(cv2.Laplacian(cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.CV_32F).var())

    assert detail(up) > 1.5 * detail(stretch)
    # Same content: the low frequencies agree.
    lo = cv2.GaussianBlur(up.astype(np.float32), (0, 0), 4) - cv2.GaussianBlur(stretch.astype(np.float32), (0, 0), 4)
    assert np.abs(lo).mean() < 3.0


def test_triangles_cut_off_by_the_photo_sample_their_mirror_image() -> None:
    from face_engine import mesh as fm

    tris, mirror = fm.triangles(), fm.mirror()
    assert mirror[33] == 263 and mirror[263] == 33 and mirror[1] == 1  # eye corners swap, nose tip stays
    pts = np.zeros((468, 2))
    pts[:, 0] = np.arange(468) % 50 + 100.0
    pts[:, 1] = np.arange(468) // 50 + 10.0
    pts[33] = [-40.0, 20.0]  # one point off the photo's left edge
    corners, n = warp.mirror_sources(pts, tris, mirror, (200, 300, 3))
    touching = np.nonzero((tris == 33).any(1))[0]
    assert n == len(touching) > 0
    for t in touching:
        np.testing.assert_array_equal(corners[t], pts[mirror[tris[t]]])
        assert (corners[t][:, 0] >= 0).all()
    untouched = np.setdiff1d(np.arange(len(tris)), touching)
    np.testing.assert_array_equal(corners[untouched], pts[tris[untouched]])
