"""Rekognition DetectFaces (Attributes=ALL) FaceDetails, answered by the local engine.

Only attributes the engine estimates honestly are reported: geometry, pose,
quality, eyes/mouth open and a smile estimate from the mouth shape, plus
AgeRange and Gender from dlib-models' age and gender networks (age_gender.py;
omitted when their wheel is not installed). Emotions, Beard and glasses are
omitted; guessing them would mislead callers.
"""

from __future__ import annotations

import numpy as np

from . import age_gender
from . import landmarks as lm
from .detect import detect_faces
from .face import Face


def _bool_attr(p: float) -> dict:
    """{Value, Confidence} from a probability-like score in [0, 1]."""
    value = p >= 0.5
    conf = 50.0 + 100.0 * abs(p - 0.5)
    return {"Value": bool(value), "Confidence": round(float(min(99.9, conf)), 3)}


def smile_score(mesh: np.ndarray) -> float:
    """0..1: mouth corners raised above the lip centre, relative to mouth width."""
    left, right = mesh[lm.MOUTH_L, :2], mesh[lm.MOUTH_R, :2]
    width = float(np.linalg.norm(right - left)) + 1e-6
    centre = (mesh[lm.LIP_UP_INNER, :2] + mesh[lm.LIP_DOWN_INNER, :2]) / 2
    # Perpendicular to the mouth line, pointing up the face.
    d = (right - left) / width
    up = np.array([d[1], -d[0]])
    lift = float(((left + right) / 2 - centre) @ up) / width
    # A smile widens the mouth relative to the eyes: 0.49-0.64 on neutral or
    # talking sample faces, 0.79-0.86 on smiling ones; 0.70 is the midpoint.
    eyes = float(np.linalg.norm(mesh[lm.EYE_R_OUT, :2] - mesh[lm.EYE_L_OUT, :2])) + 1e-6
    widen = width / eyes
    return float(np.clip(0.5 + 4.0 * (widen - 0.70) + 3.0 * (lift - 0.06), 0.0, 1.0))


def face_detail(face: Face, width: int, height: int) -> dict:
    x, y, w, h = face.box
    marks = [{"Type": name, "X": float(px / width), "Y": float(py / height)}
             for name, (px, py) in face.keypoints.items()]
    detail: dict = {
        "BoundingBox": {"Width": w / width, "Height": h / height, "Left": x / width, "Top": y / height},
        "Landmarks": marks,
        "Pose": {"Roll": round(face.roll, 4), "Yaw": round(face.yaw, 4), "Pitch": round(face.pitch, 4)},
        "Quality": {"Brightness": round(face.brightness, 4), "Sharpness": round(face.sharpness, 4)},
        "Confidence": round(100.0 * face.score, 4),
    }
    detail["EyesOpen"] = _bool_attr(face.eyes_open)
    detail["MouthOpen"] = _bool_attr(face.mouth_open)
    detail["Smile"] = _bool_attr(smile_score(face.mesh))
    return detail


def face_details(rgb: np.ndarray) -> list[dict]:
    """FaceDetails for every face, largest first (same order as detect_faces)."""
    height, width = rgb.shape[:2]
    details = []
    for f in detect_faces(rgb):
        detail = face_detail(f, width, height)
        guess = age_gender.estimate(rgb, f.mesh)
        if guess is not None:
            detail.update(guess.rekognition())
        details.append(detail)
    return details
