"""Is a detected face usable for a swap? Works on Rekognition FaceDetail dicts, so the crop
step (visitor photos) and the catalog review (portraits) apply the same rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gallery.errors import EyesCovered, FaceNotFrontal, FaceTooBlurry, FaceTooSmall, NoFaceDetected, Rejected

# Below this a detection is more likely a pattern in the background than a person.
MIN_CONFIDENCE = 80.0
# Below ~80 px across, the face must be upscaled so much that the swap looks soft.
MIN_FACE_PX = 80
MAX_YAW = 30.0  # the face engine refuses beyond these too (face_engine/checks.py)
MAX_PITCH = 25.0
# Rekognition's Sharpness (0-100). Sharp phone and tablet photos measure 30-99 and a heavily
# blurred one under 6; the restore step can sharpen anything in between.
MIN_SHARPNESS = 6.0


# A face is a Rekognition FaceDetail (mypy_boto3_rekognition's FaceDetailTypeDef), or a dict like it.
Face = Mapping[str, Any]


def face_area(face: Face) -> float:
    box = face["BoundingBox"]
    return box["Width"] * box["Height"]


def largest_face(faces: Sequence[Face]) -> Face | None:
    """The visitor is the largest confident face (others are people in the background)."""
    confident = [f for f in faces if f.get("Confidence", 0) >= MIN_CONFIDENCE]
    return max(confident, key=face_area, default=None)


def problem(face: Face | None, width: int, height: int) -> Rejected | None:
    """The reason this face cannot be used, or None when it can."""
    if face is None:
        return NoFaceDetected()
    box = face["BoundingBox"]
    if min(box["Width"] * width, box["Height"] * height) < MIN_FACE_PX:
        return FaceTooSmall()
    pose = face.get("Pose", {})
    if abs(pose.get("Yaw", 0.0)) > MAX_YAW or abs(pose.get("Pitch", 0.0)) > MAX_PITCH:
        return FaceNotFrontal()
    if face.get("Quality", {}).get("Sharpness", 100.0) < MIN_SHARPNESS:
        return FaceTooBlurry()
    sunglasses = face.get("Sunglasses", {})
    eyes_open = face.get("EyesOpen", {})
    if (sunglasses.get("Value") and sunglasses.get("Confidence", 0) >= 80) or (
        eyes_open.get("Value") is False and eyes_open.get("Confidence", 0) >= 90
    ):
        return EyesCovered()
    return None


def usable_face(faces: Sequence[Face], width: int, height: int) -> Face:
    """The face to swap, or the Rejected error that says why there is none."""
    face = largest_face(faces)
    err = problem(face, width, height)
    if err or face is None:
        raise err or NoFaceDetected()
    return face
