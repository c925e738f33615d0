"""The automatic review of a generated catalog portrait, before an operator sees it.

It rejects what cannot work for a face swap: the crop step's face checks (gallery.face_checks:
confidence, size in pixels, pose, sharpness, eyes) plus what a portrait needs on the wall. Only
fields real Rekognition DetectFaces returns are read (BoundingBox, Confidence, Pose, Quality,
EyesOpen, Sunglasses); the local stack answers them from the face engine.

A rejection is cheap to undo: a REJECTED item stays in the operator's list (catalog_items.
REVIEWABLE) and can be approved by hand, or the portrait regenerated for a few cents. So where
the crop step must not turn a visitor away, this review may be stricter (sharpness, eyes).

Rekognition does not document how it computes Quality.Brightness and Sharpness, and the local
engine's figures (mean grey of the face box; Laplacian variance of the face at 128 px wide) are
its own. The two thresholds on them below sit far under every real portrait measured locally,
so that on an unknown scale the check errs towards letting an operator look; re-measure them on
AWS before relying on them (bench/portrait_review.py prints the figures).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from gallery import catalog_items, crop, face_checks

NOT_AN_IMAGE = "NotAnImage"
NO_FACE = "NoFaceDetected"
SEVERAL_FACES = "SeveralFaces"
FACE_TOO_SMALL = "FaceTooSmall"
FACE_CUT_OFF = "FaceCutOff"
FACE_NOT_FRONTAL = "FaceNotFrontal"
FACE_TOO_DARK = "FaceTooDark"
FACE_TOO_BLURRY = "FaceTooBlurry"
EYES_COVERED = "EyesCovered"
EYES_CLOSED = "EyesClosed"

# What the operator reads beside a rejected portrait on /admin/catalog.
REASONS: dict[str, str] = {
    NOT_AN_IMAGE: "The file cannot be read as an image.",
    NO_FACE: "No face was found in the portrait.",
    SEVERAL_FACES: "The portrait shows more than one person; a visitor's face can replace only one.",
    FACE_TOO_SMALL: "The face is too small a part of the picture to show a visitor's likeness on the wall.",
    FACE_CUT_OFF: "The face is cut off by the edge of the picture (forehead, chin or a cheek).",
    FACE_NOT_FRONTAL: "The face is turned or tilted too far from the viewer for a swap.",
    FACE_TOO_DARK: "The face is too dark: a visitor's face would take on that shadow.",
    FACE_TOO_BLURRY: "The face is blurred: a sharp visitor's face would look pasted on.",
    EYES_COVERED: "Something covers the eyes (sunglasses, a veil or a mask).",
    EYES_CLOSED: "The eyes are closed: a visitor's open eyes would be squeezed shut by the swap.",
}

# A second face at least half the main face's height is a second sitter (a double portrait, a
# child on a lap): the viewer's eye goes to both and only one can become the visitor. Smaller
# faces (a crowd behind, a face in a painting on the wall) are background; the swap replaces the
# largest face only, so they stay the painter's people. Half the height is a quarter of the area,
# and keeps the largest face clearly first, so Rekognition here and the engine's detector later
# cannot pick different faces.
SECOND_FACE_RATIO = 0.5
# The face (forehead to chin) must be at least an eighth of the picture's height. The swap
# replaces only the face's region, so that region is all of the visitor there is; the wall shows
# a portrait at the display's full height (web/css/gallery.css), where an eighth of a 1080-line
# screen is about 135 px, the least in which a visitor finds their own face from a few metres. It
# is also what the prompt asks for: a "head and shoulders" portrait measures 0.14-0.33 here, and
# under an eighth the model drew a half- or full-length figure (Klimt's Adele 0.11, a full-length
# street photo 0.10, Chalon's full-length Ada Lovelace 0.12).
MIN_FACE_HEIGHT = 0.125
# The face box, grown by a tenth of its size on each side, must lie inside the picture. The
# engine works on the face mesh's hull dilated by 8% of the face's width (face_engine/mesh.py
# face_region_mask) and feathers its blend there; a face closer to the frame than that, or cut
# at the forehead or chin, leaves the engine's region partly outside the picture.
CUT_OFF_MARGIN = 0.1
# Quality.Brightness (0-100) under which the face is too dark. The darkest real portraits here
# (a low-key studio photo, a black-and-white street photo) measure 30-32; a portrait darkened to
# a quarter of its light measures 8-13 and has lost its features in shadow. The swap matches the
# visitor's face to the portrait's lighting, so the visitor would be as dark.
MIN_BRIGHTNESS = 15.0
# Quality.Sharpness (0-100) under which the face is too blurred. Stricter than the crop step's
# face_checks.MIN_SHARPNESS (6), where the restore step sharpens a visitor's photo: here the
# swapped face keeps the portrait's softness around it. Real portraits measure 54-100; a Gaussian
# blur of 1% of the face's width, where lashes and lip edges are gone, 6-21; of 2%, 3-9.
MIN_SHARPNESS = 15.0
# EyesOpen.Value False with at least this confidence is a closed-eyes portrait. The crop step
# asks 90 before turning a visitor away; a portrait can be stricter (see above).
EYES_CLOSED_CONFIDENCE = 80.0


def message(reason: str) -> str:
    """The operator's sentence for a reason name (the name itself if it is not one of ours)."""
    return REASONS.get(reason, reason)


def review(rekognition: crop.FaceDetector, data: bytes) -> tuple[str, str | None]:
    """(catalog_items.PENDING_REVIEW, None) for a usable portrait, else (catalog_items.REJECTED,
    reason) with one of REASONS' names. `rekognition` is a boto3 Rekognition client (or anything
    else that answers DetectFaces in its shape, crop.FaceDetector)."""
    img = _decode(data)
    if img is None:
        return catalog_items.REJECTED, NOT_AN_IMAGE
    width, height = img.size
    if min(width, height) < face_checks.MIN_FACE_PX:
        # Rekognition refuses a side under 80 px, and no face in it could be large enough.
        return catalog_items.REJECTED, FACE_TOO_SMALL
    # A JPEG probe of at most 1920 px, as the crop step sends: Rekognition takes JPEG and PNG only
    # (a model may answer WebP) and 5 MB of bytes; boxes are relative, so they hold for the original.
    faces = crop.detect_faces(rekognition, img)
    reason = problem(faces, width, height)
    return (catalog_items.REJECTED, reason) if reason else (catalog_items.PENDING_REVIEW, None)


def problem(faces: Sequence[Mapping[str, Any]], width: int, height: int) -> str | None:
    """The reason a portrait with these Rekognition FaceDetails cannot be used, or None.

    The order puts the cause before its symptoms: a darkened face also measures less sharp (the
    sharpness figure follows contrast), so darkness is named before blur."""
    confident = [f for f in faces if f.get("Confidence", 0) >= face_checks.MIN_CONFIDENCE]
    main = face_checks.largest_face(confident)
    if main is None:
        return NO_FACE
    main_height = main["BoundingBox"]["Height"]
    if any(f is not main and f["BoundingBox"]["Height"] >= SECOND_FACE_RATIO * main_height for f in confident):
        return SEVERAL_FACES
    if main_height < MIN_FACE_HEIGHT:
        return FACE_TOO_SMALL
    if _cut_off(main["BoundingBox"]):
        return FACE_CUT_OFF
    if main.get("Quality", {}).get("Brightness", 100.0) < MIN_BRIGHTNESS:
        return FACE_TOO_DARK
    crop_step = face_checks.problem(main, width, height)
    if crop_step is not None:
        name = type(crop_step).__name__
        # face_checks calls closed eyes and sunglasses both EyesCovered (the visitor is asked to
        # uncover them); an operator is better told which.
        return EYES_CLOSED if name == EYES_COVERED and not _sunglasses(main) else name
    if main.get("Quality", {}).get("Sharpness", 100.0) < MIN_SHARPNESS:
        return FACE_TOO_BLURRY
    if _eyes_closed(main, EYES_CLOSED_CONFIDENCE):
        return EYES_CLOSED
    return None


def _cut_off(box: Mapping[str, Any]) -> bool:
    # Rekognition reports a box reaching past the frame with a negative or > 1 edge; the local
    # engine clips it to the frame. Either way the margin is missing.
    mx, my = CUT_OFF_MARGIN * box["Width"], CUT_OFF_MARGIN * box["Height"]
    return (
        box["Left"] < mx
        or box["Top"] < my
        or box["Left"] + box["Width"] > 1.0 - mx
        or box["Top"] + box["Height"] > 1.0 - my
    )


def _sunglasses(face: Mapping[str, Any]) -> bool:
    glasses = face.get("Sunglasses", {})
    return bool(glasses.get("Value")) and glasses.get("Confidence", 0.0) >= 80.0


def _eyes_closed(face: Mapping[str, Any], min_confidence: float) -> bool:
    eyes = face.get("EyesOpen", {})
    return eyes.get("Value") is False and eyes.get("Confidence", 0.0) >= min_confidence


def _decode(data: bytes) -> Image.Image | None:
    """The picture upright in RGB (transparency flattened on white, as the crop step does), or
    None when the bytes are not an image Pillow can decode."""
    try:
        img: Image.Image = Image.open(io.BytesIO(data))
        img.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    # Rekognition and the engine both apply the EXIF orientation, so sizes must be upright too.
    img = ImageOps.exif_transpose(img)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return img if img.mode == "RGB" else img.convert("RGB")
