"""Named refusals that the state machine turns into a REJECTED visit."""

from __future__ import annotations

# Reason -> sentence a visitor reads on the display. The reason strings are
# part of the contract with the state machine (they become error names).
MESSAGES: dict[str, str] = {
    "NoFaceDetected": "We couldn't see a face. Please look at the camera.",
    "FaceTooSmall": "Your face is too far away. Please step closer to the camera.",
    "FaceNotFrontal": "Please face the camera straight on.",
    "EyesCovered": "We couldn't see your eyes. Please remove sunglasses or anything covering them.",
}


class Refused(Exception):
    """The visitor's (or the portrait's) face cannot be swapped well."""

    def __init__(self, reason: str, message: str | None = None) -> None:
        if reason not in MESSAGES:
            raise ValueError(f"unknown refusal reason {reason!r}")
        self.reason = reason
        self.message = message or MESSAGES[reason]
        super().__init__(f"{reason}: {self.message}")
