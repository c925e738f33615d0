"""Indices into the 468-point MediaPipe face mesh, and their Rekognition names.

"Left" and "right" follow Rekognition: as seen in the image (viewer's side),
so eyeLeft is the eye with the smaller x. MediaPipe's own naming is the
subject's side, which is the mirror of this.
"""

from __future__ import annotations

import numpy as np

# Eye contours (16 points each), image-left and image-right eyes.
EYE_L = [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246]
EYE_R = [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466]
BROW_L = [70, 63, 105, 66, 107, 55, 65, 52, 53, 46]
BROW_R = [300, 293, 334, 296, 336, 285, 295, 282, 283, 276]
LIPS_OUTER = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185]
LIPS_INNER = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191]
FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378,
             400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21,
             54, 103, 67, 109]
# Lower face outline from the image-left cheek (eye level) round the chin to
# the image-right cheek: the sides and bottom of the swap mask.
JAW = [234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365,
       397, 288, 361, 323, 454]

# Skin patches that hair, beards and glasses rarely cover: the colour sample.
CHEEK_L_CORE = [116, 117, 118, 101, 36, 205, 187, 123]
CHEEK_R_CORE = [345, 346, 347, 330, 266, 425, 411, 352]
# The forehead from the brows' tops to the mesh's top edge.
FOREHEAD_CORE = [67, 109, 10, 338, 297, 299, 9, 69]
NOSE_CORE = [6, 351, 412, 399, 456, 363, 440, 275, 4, 45, 220, 134, 236, 174, 188, 122]

NOSE_TIP = 1
CHIN = 152
FOREHEAD = 10
CHEEK_L, CHEEK_R = 234, 454  # face-width points at eye level
MOUTH_L, MOUTH_R = 61, 291
LIP_UP_INNER, LIP_DOWN_INNER = 13, 14
EYE_L_OUT, EYE_L_IN, EYE_L_UP, EYE_L_DOWN = 33, 133, 159, 145
EYE_R_OUT, EYE_R_IN, EYE_R_UP, EYE_R_DOWN = 263, 362, 386, 374

# Symmetric pairs (image-left, image-right) used to find the face's x axis.
SYMMETRIC_PAIRS = [(33, 263), (133, 362), (234, 454), (61, 291), (70, 300), (93, 323),
                   (132, 361), (58, 288), (172, 397), (127, 356), (98, 327)]
# Midline points from the top of the forehead to the chin (face's y axis).
MIDLINE = [10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 164, 0, 13, 14, 17, 18, 200, 199, 175, 152]

# Rekognition landmark name -> mesh indices averaged (pupils are eye centres).
REKOGNITION: dict[str, list[int]] = {
    "eyeLeft": EYE_L,
    "eyeRight": EYE_R,
    "nose": [NOSE_TIP],
    "mouthLeft": [MOUTH_L],
    "mouthRight": [MOUTH_R],
    "leftEyeBrowLeft": [70],
    "leftEyeBrowRight": [107],
    "leftEyeBrowUp": [105],
    "rightEyeBrowLeft": [336],
    "rightEyeBrowRight": [300],
    "rightEyeBrowUp": [334],
    "leftEyeLeft": [EYE_L_OUT],
    "leftEyeRight": [EYE_L_IN],
    "leftEyeUp": [EYE_L_UP],
    "leftEyeDown": [EYE_L_DOWN],
    "rightEyeLeft": [EYE_R_IN],
    "rightEyeRight": [EYE_R_OUT],
    "rightEyeUp": [EYE_R_UP],
    "rightEyeDown": [EYE_R_DOWN],
    "noseLeft": [98],
    "noseRight": [327],
    "mouthUp": [0],
    "mouthDown": [17],
    "leftPupil": EYE_L,
    "rightPupil": EYE_R,
    "upperJawlineLeft": [234],
    "midJawlineLeft": [172],
    "chinBottom": [CHIN],
    "midJawlineRight": [397],
    "upperJawlineRight": [454],
}


def keypoints(mesh: np.ndarray) -> dict[str, tuple[float, float]]:
    """Rekognition-named keypoints (pixel x, y) from a 468x3 mesh."""
    out: dict[str, tuple[float, float]] = {}
    for name, idx in REKOGNITION.items():
        p = mesh[idx, :2].mean(axis=0)
        out[name] = (float(p[0]), float(p[1]))
    return out
