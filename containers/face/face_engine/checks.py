"""Whether a detected face can be swapped well; shared by the crop step and catalog review.

Thresholds (all measured on the mesh):
- FaceTooSmall: cheek-to-cheek width (in 3D, so turning does not shrink it)
  under MIN_FACE_PX = 64 px. Below that the mesh is unreliable and the
  face would need more than ~4x upscaling in a typical 1024 px portrait.
- FaceNotFrontal: |yaw| > 30 or |pitch| > 25 degrees. The mesh's depth is
  shallower than a real head, so these read lower than true angles
  (Girl with a Pearl Earring, clearly turned, measures about -34); past them
  the 2D warp visibly stretches the far cheek.
- EyesCovered: eye visibility (contrast inside both eye openings relative
  to skin brightness) under 0.2 for both eyes; open eyes measure 0.35-1.3
  on the samples, a bar or dark glasses over the eyes 0.0-0.1.
"""

from __future__ import annotations

from .errors import VISITOR, Refused
from .face import Face

MIN_FACE_PX = 64.0
MAX_YAW = 30.0
MAX_PITCH = 25.0
MIN_EYE_VISIBILITY = 0.2


def problem(face: Face) -> str | None:
    """The refusal reason for this face, or None when it is usable."""
    if face.face_width < MIN_FACE_PX:
        return "FaceTooSmall"
    if abs(face.yaw) > MAX_YAW or abs(face.pitch) > MAX_PITCH:
        return "FaceNotFrontal"
    if face.eyes_visible < MIN_EYE_VISIBILITY:
        return "EyesCovered"
    return None


def require_usable(faces: list[Face], who: str = VISITOR) -> Face:
    """The largest face, or Refused naming the reason and `who` ("visitor" or "portrait")."""
    if not faces:
        raise Refused("NoFaceDetected", who)
    face = faces[0]
    reason = problem(face)
    if reason is not None:
        raise Refused(reason, who)
    return face
