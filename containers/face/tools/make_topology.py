#!/usr/bin/env python3
"""Regenerate face_engine/data/mesh_triangles.npy and mesh_mirror.npy.

mesh_triangles.npy is the warp's fixed triangulation; mesh_mirror.npy maps
each mesh point to its left-right counterpart (used to fill a face that the
photo cuts off at one side from its other half).

Delaunay over a frontal face's mesh, after turning the mesh to face the
camera exactly. A fixed topology (rather than a fresh Delaunay per image)
keeps triangles from folding over when the portrait's face is turned.

    .venv/bin/python containers/face/tools/make_topology.py PHOTO_OF_A_FRONTAL_FACE
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from face_engine.detect import detect_faces  # noqa: E402


def main(photo: str) -> None:
    rgb = np.asarray(Image.open(photo).convert("RGB"))
    face = detect_faces(rgb)[0]
    mesh = face.mesh.copy()
    mesh -= mesh.mean(0)
    # Undo roll and yaw so the triangulation is of a frontal face.
    r = np.radians
    cz, sz = np.cos(r(-face.roll)), np.sin(r(-face.roll))
    cy, sy = np.cos(r(face.yaw)), np.sin(r(face.yaw))
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    pts = (mesh @ rz.T) @ ry.T
    xy = pts[:, :2]
    lo = xy.min(0) - 10
    sub = cv2.Subdiv2D((float(lo[0]), float(lo[1]), float(np.ptp(xy[:, 0]) + 20), float(np.ptp(xy[:, 1]) + 20)))
    for p in xy:
        sub.insert((float(p[0]), float(p[1])))
    tris = []
    for t in sub.getTriangleList().reshape(-1, 3, 2):
        idx = [int(np.argmin(np.linalg.norm(xy - v, axis=1))) for v in t]
        if len(set(idx)) == 3:
            tris.append(sorted(idx))
    tris = np.unique(np.array(tris, np.int16), axis=0)
    out = Path(__file__).resolve().parents[1] / "face_engine" / "data" / "mesh_triangles.npy"
    np.save(out, tris)
    print(f"{len(tris)} triangles -> {out}")
    # Mirror about the midline (x of the nose bridge and tip, in the frontal frame).
    mid_x = xy[[1, 4, 6, 168, 10, 152], 0].mean()
    flipped = xy.copy()
    flipped[:, 0] = 2 * mid_x - flipped[:, 0]
    mirror = np.array([int(np.argmin(np.linalg.norm(xy - p, axis=1))) for p in flipped], np.int16)
    np.save(out.with_name("mesh_mirror.npy"), mirror)
    err = np.linalg.norm(xy[mirror] - flipped, axis=1)
    print(f"mirror map: median error {np.median(err):.2f} px, max {err.max():.2f} px")


if __name__ == "__main__":
    main(sys.argv[1])
