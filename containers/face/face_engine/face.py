"""One face found in an image: where it is, its 468-point mesh, its pose and quality figures."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Face:
    box: tuple[float, float, float, float]  # x, y, w, h in pixels
    score: float  # 0..1
    mesh: np.ndarray  # 468x3 (x, y in pixels; z in pixel-like units, smaller = closer)
    keypoints: dict[str, tuple[float, float]] = field(default_factory=dict)
    yaw: float = 0.0  # degrees, > 0 when the nose points to the image's right
    pitch: float = 0.0  # degrees, > 0 when the face looks up
    roll: float = 0.0  # degrees, > 0 when the head tilts clockwise in the image
    sharpness: float = 0.0  # 0..100
    brightness: float = 0.0  # 0..100
    eyes_open: float = 1.0  # 0..1, eye-aspect ratio based
    mouth_open: float = 0.0  # 0..1
    eyes_visible: float = 1.0  # 0..1, low when something covers the eyes
    face_width: float = 0.0  # mesh.face_width: cheek-to-cheek in 3D, so turning does not shrink it

    @property
    def area(self) -> float:
        return self.box[2] * self.box[3]
