"""Named errors. A Lambda error's type name is what the state machine's Catch matches,
so each class name here is part of the contract with statemachine/pipeline.asl.json.

This is the one table of sentences a visitor reads: the face engine refuses with a reason's
name only (face_engine/errors.py REASONS), and the tablet, wall and visitor pages show the
`message` the API and the display tiles carry. tests/unit/test_domain_reasons.py keeps the
engine's reasons, the state machine's catches and the Rejected classes below in step."""

from typing import TypeVar


class GalleryError(Exception):
    """Base for errors that carry a sentence a visitor or operator can read."""

    default_message = "Something went wrong."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)

    @property
    def message(self) -> str:
        return str(self.args[0])


class UploadNotAccepted(GalleryError):
    """The upload does not belong to a visit; there is nobody to tell."""


class KeyOutsideUploads(UploadNotAccepted):
    default_message = "The object is not a tablet upload (expected uploads/{displayId}/{visitId}.jpg)."


class VisitNotFound(UploadNotAccepted):
    default_message = "No visit matches this upload."


class AlreadyClaimed(GalleryError):
    default_message = "This upload is already being processed or was processed."


class Rejected(GalleryError):
    """The photo cannot become a portrait; the visitor is asked to try again. Each reason has
    its sentence in English (default_message) and Korean (korean_message): the visitor reads
    it in the language they chose on the tablet (`sentence`)."""

    korean_message: str | None = None


class ConsentMissing(Rejected):
    default_message = "We need your consent before we can use your photo."
    korean_message = "사진을 쓰려면 먼저 동의가 필요해요."


class PhotoTooLarge(Rejected):
    default_message = "The photo is too large. Please take it again."
    korean_message = "사진이 너무 커요. 다시 찍어 주세요."


class WrongContentType(Rejected):
    default_message = "Only JPEG and PNG photos can be used."
    korean_message = "JPEG와 PNG 사진만 쓸 수 있어요."


class UnreadablePhoto(Rejected):
    default_message = "We couldn't read that photo. Please take it again."
    korean_message = "사진을 읽지 못했어요. 다시 찍어 주세요."


class NoFaceDetected(Rejected):
    default_message = "We couldn't see a face. Please look at the camera."
    korean_message = "얼굴이 보이지 않아요. 카메라를 봐 주세요."


class FaceTooSmall(Rejected):
    default_message = "Your face is too small in the picture. Please come closer."
    korean_message = "사진 속 얼굴이 너무 작아요. 조금 더 가까이 와 주세요."


class FaceNotFrontal(Rejected):
    default_message = "Please look straight at the camera."
    korean_message = "카메라를 정면으로 봐 주세요."


class FaceTooBlurry(Rejected):
    default_message = "The photo is blurry. Please hold still and try again."
    korean_message = "사진이 흐려요. 움직이지 말고 다시 찍어 주세요."


class EyesCovered(Rejected):
    default_message = "Please take off your sunglasses and keep your eyes uncovered."
    korean_message = "선글라스를 벗고 눈이 가려지지 않게 해 주세요."


class NoPortraitAvailable(GalleryError):
    default_message = "No approved portrait is available for this theme."


class VisitGone(GalleryError):
    """An answer arrived for a visit that was deleted or has already ended."""

    default_message = "The visit was deleted or had already ended; its result was not kept."


class InferenceFailed(GalleryError):
    default_message = "The face engine could not finish this photo."


class BadRequest(GalleryError):
    default_message = "The request is not valid."


class UnknownLanguage(BadRequest):
    default_message = 'language must be "ko" (한국어) or "en" (English).'


class Forbidden(GalleryError):
    default_message = "Only operators may do this."


E = TypeVar("E", bound=GalleryError)


def _named(base: type[E]) -> dict[str, type[E]]:
    """Every error class below `base`, however deep, by its name (the state machine's error name)."""
    found: dict[str, type[E]] = {}
    for cls in base.__subclasses__():
        found[cls.__name__] = cls
        found.update(_named(cls))
    return found


ERRORS = _named(GalleryError)
REJECTION_REASONS = _named(Rejected)


def sentence(reason: str, language: str) -> str | None:
    """A refusal's sentence in a visit's language ("ko" or "en"), or None for no such reason."""
    cls = REJECTION_REASONS.get(reason)
    if cls is None:
        return None
    return (cls.korean_message if language == "ko" else None) or cls.default_message


def rejection(reason: str, message: str | None = None) -> Rejected | None:
    """The Rejected error for a reason name (as the face engine reports it), or None."""
    cls = REJECTION_REASONS.get(reason)
    return cls(message) if cls else None
