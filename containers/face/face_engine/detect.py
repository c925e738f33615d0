"""Face detection (MediaPipe BlazeFace) and the 468-point mesh, on ai-edge-litert.

detect_faces() is the one entry point: it finds faces, fits the dense mesh
to each (two passes: the second ROI comes from the first mesh, as MediaPipe
does when tracking, which makes the mesh much tighter), and derives the
Rekognition-style keypoints, pose and quality figures from the mesh.
"""

from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np

from . import landmarks as lm
from . import quality
from .face import Face
from .mesh import face_width
from .models import pool

# Both detectors run on every image (see _run_detector). Short range (128 px
# input, ~1 ms) is sharper on faces that fill a good part of the image:
# visitor crops and most portraits. Full range (192 px, sparse variant,
# ~4 ms) finds the small ones: full-length photos, the others in a group.
SHORT_RANGE = ("face_detection_short_range.tflite", 128, (8, 16, 16, 16), 2)
FULL_RANGE = ("face_detection_full_range_sparse.tflite", 192, (4,), 1)
MESH = "face_landmark.tflite"
MESH_SIZE = 192
# Thresholds that keep false positives out: BlazeFace's own 0.5 on the box,
# and the mesh model's face-presence flag on the fitted ROI.
MIN_DETECTION_SCORE = 0.5
MIN_PRESENCE = 0.5
NMS_IOU = 0.3
ROI_SCALE = 1.5  # MediaPipe's margin around the face for the mesh model


@lru_cache(maxsize=4)
def _anchors(size: int, strides: tuple[int, ...], per_layer: int) -> np.ndarray:
    """SSD anchor centres as MediaPipe generates them (fixed size, so centres only).

    Consecutive layers with the same stride share one grid, each adding
    `per_layer` anchors per cell.
    """
    out = []
    i = 0
    while i < len(strides):
        j = i
        while j < len(strides) and strides[j] == strides[i]:
            j += 1
        n = int(np.ceil(size / strides[i]))
        ys, xs = np.mgrid[0:n, 0:n].astype(np.float32)
        c = np.stack([(xs.ravel() + 0.5) / n, (ys.ravel() + 0.5) / n], axis=1)
        out.append(np.repeat(c, per_layer * (j - i), axis=0))
        i = j
    return np.concatenate(out)


def _letterbox(rgb: np.ndarray, size: int) -> tuple[np.ndarray, float, float, float]:
    h, w = rgb.shape[:2]
    s = size / max(h, w)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    resized = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    canvas = np.zeros((size, size, 3), np.uint8)
    ox, oy = (size - nw) // 2, (size - nh) // 2
    canvas[oy:oy + nh, ox:ox + nw] = resized
    return canvas, s, ox, oy


def _run_detector(rgb: np.ndarray) -> list[tuple[np.ndarray, float]]:
    """Returns [(points 8x2 in image pixels: box corners then 6 keypoints, score)].

    Both models run: the short-range one is sharper on a face that fills the frame, the
    full-range one finds the smaller faces of a group, and the largest face can only win if
    every face was found."""
    found = _run_one_detector(rgb, *SHORT_RANGE) + _run_one_detector(rgb, *FULL_RANGE)
    if len(found) < 2:
        return found
    return _weighted_nms(np.stack([p for p, _ in found]), np.array([sc for _, sc in found]))


def _run_one_detector(rgb: np.ndarray, model: str, size: int, strides: tuple[int, ...], per_layer: int
                      ) -> list[tuple[np.ndarray, float]]:
    canvas, s, ox, oy = _letterbox(rgb, size)
    x = canvas.astype(np.float32)[None] / 127.5 - 1.0
    with pool(model).get() as it:
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        outs = {d["name"]: it.get_tensor(d["index"]) for d in it.get_output_details()}
    reg = next(v for v in outs.values() if v.shape[-1] == 16)[0]
    cls = next(v for v in outs.values() if v.shape[-1] == 1)[0, :, 0]
    scores = 1.0 / (1.0 + np.exp(-np.clip(cls, -80, 80)))
    keep = np.nonzero(scores > MIN_DETECTION_SCORE)[0]
    if keep.size == 0:
        return []
    reg = reg[keep].reshape(-1, 8, 2) / size
    anchors = _anchors(size, strides, per_layer)[keep]
    centre = reg[:, 0] + anchors
    half = reg[:, 1] / 2
    kps = reg[:, 2:] + anchors[:, None, :]
    pts = np.concatenate([(centre - half)[:, None], (centre + half)[:, None], kps], axis=1)
    pts = (pts * size - [ox, oy]) / s  # back to image pixels
    return _weighted_nms(pts, scores[keep])


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lt = np.maximum(a[0], b[:, 0])
    rb = np.minimum(a[1], b[:, 1])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=1)
    area_a = np.prod(a[1] - a[0])
    area_b = np.prod(b[:, 1] - b[:, 0], axis=1)
    return inter / np.maximum(area_a + area_b - inter, 1e-9)


def _weighted_nms(pts: np.ndarray, scores: np.ndarray) -> list[tuple[np.ndarray, float]]:
    # MediaPipe's weighted NMS: overlapping candidates are averaged by score,
    # which steadies the box and keypoints.
    order = np.argsort(-scores)
    pts, scores = pts[order], scores[order]
    remaining = np.ones(len(scores), bool)
    out = []
    for i in range(len(scores)):
        if not remaining[i]:
            continue
        ious = _iou(pts[i, :2], pts[:, :2])
        group = remaining & (ious > NMS_IOU)
        w = scores[group][:, None, None]
        out.append(((pts[group] * w).sum(0) / w.sum(), float(scores[i])))
        remaining &= ~group
    return out


def _roi_transform(centre: np.ndarray, size: float, angle: float) -> np.ndarray:
    """2x3 affine from image pixels to the 192x192 mesh input (rotated square ROI)."""
    c, s = math.cos(angle), math.sin(angle)
    k = MESH_SIZE / size
    # Rotate by -angle about the centre (so the eyes become horizontal), scale, centre.
    m = np.array([[c * k, s * k, 0.0], [-s * k, c * k, 0.0]])
    m[:, 2] = np.array([MESH_SIZE / 2, MESH_SIZE / 2]) - m[:, :2] @ centre
    return m


def _run_mesh(rgb: np.ndarray, centre: np.ndarray, size: float, angle: float) -> tuple[np.ndarray, float]:
    m = _roi_transform(centre, size, angle)
    crop = cv2.warpAffine(rgb, m, (MESH_SIZE, MESH_SIZE), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT)
    x = crop.astype(np.float32)[None] / 255.0
    with pool(MESH).get() as it:
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        outs = [it.get_tensor(d["index"]) for d in it.get_output_details()]
    raw = next(o for o in outs if o.size == 468 * 3).reshape(468, 3).astype(np.float64)
    flag = float(next(o for o in outs if o.size == 1).ravel()[0])
    presence = 1.0 / (1.0 + math.exp(-max(-80.0, min(80.0, flag))))
    inv = cv2.invertAffineTransform(m)
    mesh = np.empty_like(raw)
    mesh[:, :2] = raw[:, :2] @ inv[:, :2].T + inv[:, 2]
    mesh[:, 2] = raw[:, 2] * size / MESH_SIZE
    return mesh, presence


def _eye_angle(left: np.ndarray, right: np.ndarray) -> float:
    d = right - left
    return math.atan2(d[1], d[0])


def _fit_mesh(rgb: np.ndarray, det: np.ndarray) -> tuple[np.ndarray, float]:
    (x0, y0), (x1, y1) = det[0], det[1]
    # Keypoints 0 and 1 are the eyes, image-left first.
    angle = _eye_angle(det[2], det[3])
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    size = max(x1 - x0, y1 - y0) * ROI_SCALE
    mesh, presence = _run_mesh(rgb, centre, size, angle)
    # Second pass: ROI from the first mesh, rotated by its eye corners.
    xy = mesh[:, :2]
    lo, hi = xy.min(0), xy.max(0)
    angle = _eye_angle(mesh[lm.EYE_L_OUT, :2], mesh[lm.EYE_R_OUT, :2])
    c, s = math.cos(-angle), math.sin(-angle)
    rot = xy @ np.array([[c, s], [-s, c]])  # into the face's upright frame
    size = float((rot.max(0) - rot.min(0)).max()) * ROI_SCALE
    centre = (lo + hi) / 2
    mesh2, presence2 = _run_mesh(rgb, centre, size, angle)
    if presence2 >= presence * 0.8:
        return mesh2, presence2
    return mesh, presence


def pose_from_mesh(mesh: np.ndarray) -> tuple[float, float, float]:
    """Yaw, pitch, roll in degrees from the 3D mesh's own axes."""
    d = np.array([mesh[r] - mesh[lidx] for lidx, r in lm.SYMMETRIC_PAIRS])
    xa = d.sum(0)
    xa /= np.linalg.norm(xa)
    mid = mesh[lm.MIDLINE]
    centred = mid - mid.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    ya = vt[0]
    if ya @ (mesh[lm.CHIN] - mesh[lm.FOREHEAD]) < 0:
        ya = -ya
    ya = ya - (ya @ xa) * xa
    ya /= np.linalg.norm(ya)
    yaw = math.degrees(math.asin(float(np.clip(xa[2], -1, 1))))
    # The forehead-chin line leans back a little on a level face; remove that.
    pitch = -math.degrees(math.asin(float(np.clip(ya[2], -1, 1)))) - PITCH_BIAS
    roll = math.degrees(math.atan2(xa[1], xa[0]))
    return yaw, pitch, roll


PITCH_BIAS = -7.0  # mean raw pitch of level sample faces


def detect_faces(rgb: np.ndarray) -> list[Face]:
    """All faces in an RGB uint8 image, largest box first."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("detect_faces expects an HxWx3 uint8 RGB image")
    rgb = np.ascontiguousarray(rgb)
    faces: list[Face] = []
    for det, score in _run_detector(rgb):
        mesh, presence = _fit_mesh(rgb, det)
        if presence < MIN_PRESENCE:
            continue
        faces.append(_face_from_mesh(rgb, mesh, math.sqrt(score * presence)))
    faces.sort(key=lambda f: f.area, reverse=True)
    return _dedupe(faces)


def _dedupe(faces: list[Face]) -> list[Face]:
    # Two detections can converge on the same face after the mesh pass.
    kept: list[Face] = []
    for f in faces:
        b = np.array([[f.box[0], f.box[1]], [f.box[0] + f.box[2], f.box[1] + f.box[3]]])
        if kept:
            others = np.array([[[k.box[0], k.box[1]], [k.box[0] + k.box[2], k.box[1] + k.box[3]]] for k in kept])
            if (_iou(b, others) > 0.5).any():
                continue
        kept.append(f)
    return kept


def _face_from_mesh(rgb: np.ndarray, mesh: np.ndarray, score: float) -> Face:
    h, w = rgb.shape[:2]
    lo = np.clip(mesh[:, :2].min(0), 0, [w, h])
    hi = np.clip(mesh[:, :2].max(0), 0, [w, h])
    yaw, pitch, roll = pose_from_mesh(mesh)
    face = Face(
        box=(float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1])),
        score=float(score),
        mesh=mesh,
        keypoints=lm.keypoints(mesh),
        yaw=yaw, pitch=pitch, roll=roll,
        face_width=face_width(mesh),
    )
    quality.measure(rgb, face)
    return face
