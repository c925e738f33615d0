"""The crop step: find the visitor's face with Rekognition and cut it out with padding."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from PIL import Image

from gallery import face_checks, images, keys, skin_tone
from gallery.contracts import FaceFound

if TYPE_CHECKING:
    from mypy_boto3_rekognition import RekognitionClient
    from mypy_boto3_rekognition.literals import AttributeType
    from mypy_boto3_rekognition.type_defs import FaceDetailTypeDef, ImageTypeDef
    from mypy_boto3_s3 import S3Client

PADDING = 0.5  # of the face's size, on each side: keeps hairline, ears and chin for the engine
DETECT_MAX_SIDE = 1920  # Rekognition's Bytes limit is 5 MB; a 1920 px JPEG stays well under it
# A "low" confidence measure stands on too few skin pixels to say anything: no tone rather than a
# guess. "medium" (near a band edge) is kept: its neighbouring group is as good a match anyway.
SKIN_TONE_CONFIDENCE = ("high", "medium")
SKIN_TONE_SIDE = 1024


class FaceDetector(Protocol):
    """What detect_faces asks of Rekognition: DetectFaces, answering {"FaceDetails": [...]} in
    Rekognition's shape. A boto3 Rekognition client is one; so is the face engine answering
    locally (bench/portrait_review.py's EngineRekognition)."""

    # Image, Attributes: boto3's keyword names.
    def detect_faces(self, *, Image: ImageTypeDef, Attributes: Sequence[AttributeType]) -> Mapping[str, Any]: ...


def padded_box(face: Mapping[str, Any], width: int, height: int, padding: float = PADDING) -> tuple[int, int, int, int]:
    """Pixel box (left, top, right, bottom) of the face grown by `padding` of its size on each
    side, clipped to the image."""
    b = face["BoundingBox"]
    x, y, w, h = b["Left"] * width, b["Top"] * height, b["Width"] * width, b["Height"] * height
    left = max(0, int(round(x - padding * w)))
    top = max(0, int(round(y - padding * h)))
    right = min(width, int(round(x + w + padding * w)))
    bottom = min(height, int(round(y + h + padding * h)))
    return left, top, right, bottom


def detect_faces(rekognition: FaceDetector, img: Image.Image) -> list[FaceDetailTypeDef]:
    probe = img
    if max(img.size) > DETECT_MAX_SIDE:
        # resize() makes the small probe directly; copy() + thumbnail() would first duplicate
        # the whole photo (120 MB for 40 MP).
        scale = DETECT_MAX_SIDE / max(img.size)
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        probe = img.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
    # Boxes are relative, so they apply to the full-size image as well.
    return rekognition.detect_faces(Image={"Bytes": images.encode_jpeg(probe)}, Attributes=["ALL"])["FaceDetails"]


def skin_tone_of(
    face_crop: Image.Image, face: Mapping[str, Any], box: tuple[int, int, int, int], width: int, height: int
) -> str | None:
    """The skin tone group (skin_tone.GROUPS) of the face in its padded crop, or None when it
    cannot be measured (greyscale, no skin-coloured pixels, too few of them).

    face is the Rekognition FaceDetail in the photo of `width` x `height` px; box is the crop's
    place in that photo (padded_box). Rekognition's own face box and eye landmarks say where the
    cheeks and forehead are, which beats assuming the face fills the crop's centre."""
    left, top = box[0], box[1]
    # The measure samples patches of at most skin_tone.WORK_SIDE / 2 px, about an eighth of the
    # crop's side each: a crop of SKIN_TONE_SIDE px loses nothing, and a 40 MP photo's crop is not
    # copied whole (estimate converts its image, which copies it).
    scale = min(1.0, SKIN_TONE_SIDE / max(face_crop.size))
    if scale < 1.0:
        size = (max(1, round(face_crop.width * scale)), max(1, round(face_crop.height * scale)))
        face_crop = face_crop.resize(size, Image.Resampling.BOX, reducing_gap=2.0)
    b = face["BoundingBox"]
    face_box = (
        (b["Left"] * width - left) * scale,
        (b["Top"] * height - top) * scale,
        ((b["Left"] + b["Width"]) * width - left) * scale,
        ((b["Top"] + b["Height"]) * height - top) * scale,
    )
    landmarks = {
        m["Type"]: ((m["X"] * width - left) * scale, (m["Y"] * height - top) * scale)
        for m in face.get("Landmarks") or []
        if m.get("Type") in ("eyeLeft", "eyeRight")
    }
    measured = skin_tone.estimate(face_crop, face_box, landmarks or None)
    if measured["group"] is None or measured["confidence"] not in SKIN_TONE_CONFIDENCE:
        return None
    return str(measured["group_name"])


def crop_face(s3: S3Client, rekognition: RekognitionClient, bucket: str, key: str, visit_id: str) -> FaceFound:
    """Write faces/{visitId}.png and describe the face (count, crop box, and what matching needs:
    gender, ageRange, skinTone where known). Raises a Rejected error when the photo cannot be
    used."""
    head = s3.head_object(Bucket=bucket, Key=key)
    images.check_upload(head.get("ContentType"), head["ContentLength"])
    # Rekognition refuses images under 80 px a side; such a photo is refused here by name.
    img = images.decode_photo(s3.get_object(Bucket=bucket, Key=key)["Body"].read(), min_side=images.MIN_SIDE)
    faces = detect_faces(rekognition, img)
    face = face_checks.usable_face(faces, img.width, img.height)
    box = padded_box(face, img.width, img.height)
    out_key = keys.face_key(visit_id)
    face_crop = img.crop(box)
    s3.put_object(Bucket=bucket, Key=out_key, Body=images.encode_png(face_crop), ContentType="image/png")
    result: FaceFound = {"key": out_key, "faces": len(faces), "box": list(box)}
    # Measured here, on the pixels this step has already decoded, on AWS and locally alike.
    tone = skin_tone_of(face_crop, face, box, img.width, img.height)
    if tone:
        result["skinTone"] = tone
    if "AgeRange" in face:
        result["ageRange"] = {"low": int(face["AgeRange"]["Low"]), "high": int(face["AgeRange"]["High"])}
    if "Gender" in face:
        result["gender"] = face["Gender"]["Value"].lower()  # Rekognition says "Female"; the catalog "female"
    return result
