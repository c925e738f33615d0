"""Named refusals that the state machine turns into a REJECTED visit.

The engine says only WHY it refuses (a reason name) and WHOSE face it is; the sentence a
visitor reads belongs to the gallery layer (gallery/errors.py, one class per reason), so that
one table serves the tablet, the wall and the visitor's page. Each name here is also an error
name the state machine catches (statemachine/pipeline.asl.json); tests keep the three in step."""

from __future__ import annotations

REASONS: tuple[str, ...] = ("NoFaceDetected", "FaceTooSmall", "FaceNotFrontal", "EyesCovered")

# The visitor can retake the photo; a refused portrait is the catalog's problem, not theirs.
VISITOR = "visitor"
PORTRAIT = "portrait"
SUBJECTS: tuple[str, ...] = (VISITOR, PORTRAIT)
# The error name of a refused portrait; deliberately no reason of REASONS (see server.handle).
PORTRAIT_REFUSED = "PortraitRefused"


class Refused(Exception):
    """The visitor's (or the portrait's) face cannot be swapped well."""

    def __init__(self, reason: str, subject: str = VISITOR) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown refusal reason {reason!r}")
        if subject not in SUBJECTS:
            raise ValueError(f"unknown refusal subject {subject!r}")
        self.reason = reason
        self.subject = subject
        super().__init__(f"{reason} (the {subject})")

    @property
    def message(self) -> str:
        """For operators' logs and `gallery swap`: which face was refused, never a visitor's sentence."""
        return f"the {self.subject}'s face"
