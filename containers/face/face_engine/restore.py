"""Classical restoration: light denoise then sharpen, tuned to keep identity.

Bilateral filtering with a small range sigma removes JPEG blocking and
sensor noise but keeps pores and wrinkles (strong settings give the
"plastic skin" look people complain about), and a mild unsharp mask brings
back the edges the warp's resampling softened.
"""

from __future__ import annotations

import cv2
import numpy as np


def denoise_sharpen(roi: np.ndarray, face_width: float) -> np.ndarray:
    d = cv2.bilateralFilter(roi, d=5, sigmaColor=12, sigmaSpace=2)
    sigma = max(0.8, face_width / 250)
    blur = cv2.GaussianBlur(d, (0, 0), sigma)
    return cv2.addWeighted(d, 1.5, blur, -0.5, 0)
