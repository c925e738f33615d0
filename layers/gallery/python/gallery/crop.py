"""The crop step: find the visitor's face with Rekognition and cut it out with padding."""

from __future__ import annotations

from typing import Any

from PIL import Image

from gallery import face_checks, images, keys

PADDING = 0.5  # of the face's size, on each side: keeps hairline, ears and chin for the engine
DETECT_MAX_SIDE = 1920  # Rekognition's Bytes limit is 5 MB; a 1920 px JPEG stays well under it


def padded_box(face: dict, width: int, height: int, padding: float = PADDING) -> tuple[int, int, int, int]:
    """Pixel box (left, top, right, bottom) of the face grown by `padding` of its size on each
    side, clipped to the image."""
    b = face["BoundingBox"]
    x, y, w, h = b["Left"] * width, b["Top"] * height, b["Width"] * width, b["Height"] * height
    left = max(0, int(round(x - padding * w)))
    top = max(0, int(round(y - padding * h)))
    right = min(width, int(round(x + w + padding * w)))
    bottom = min(height, int(round(y + h + padding * h)))
    return left, top, right, bottom


def detect_faces(rekognition: Any, img: Image.Image) -> list[dict]:
    probe = img
    if max(img.size) > DETECT_MAX_SIDE:
        # resize() makes the small probe directly; copy() + thumbnail() would first duplicate
        # the whole photo (120 MB for 40 MP).
        scale = DETECT_MAX_SIDE / max(img.size)
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        probe = img.resize(size, Image.LANCZOS, reducing_gap=2.0)
    # Boxes are relative, so they apply to the full-size image as well.
    return rekognition.detect_faces(Image={"Bytes": images.encode_jpeg(probe)}, Attributes=["ALL"])["FaceDetails"]


def crop_face(s3: Any, rekognition: Any, bucket: str, key: str, visit_id: str) -> dict:
    """Write faces/{visitId}.png and describe the face. Raises a Rejected error when the photo
    cannot be used."""
    head = s3.head_object(Bucket=bucket, Key=key)
    images.check_upload(head.get("ContentType"), head["ContentLength"])
    # Rekognition refuses images under 80 px a side; such a photo is refused here by name.
    img = images.decode_photo(s3.get_object(Bucket=bucket, Key=key)["Body"].read(), min_side=images.MIN_SIDE)
    faces = detect_faces(rekognition, img)
    face = face_checks.usable_face(faces, img.width, img.height)
    box = padded_box(face, img.width, img.height)
    out_key = keys.face_key(visit_id)
    s3.put_object(Bucket=bucket, Key=out_key, Body=images.encode_png(img.crop(box)), ContentType="image/png")
    result = {"key": out_key, "faces": len(faces), "box": list(box)}
    if "AgeRange" in face:
        result["ageRange"] = {"low": int(face["AgeRange"]["Low"]), "high": int(face["AgeRange"]["High"])}
    if "Gender" in face:
        result["gender"] = face["Gender"]["Value"].lower()  # Rekognition says "Female"; the catalog "female"
    return result
