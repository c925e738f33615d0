"""gallery.portrait_review on pictures built from the bundled portraits, answered by the real
local face engine (the detector the local stack's Rekognition runs), plus the shared hard cases
when ../shared/data exists. Closed eyes and sunglasses, which no bundled picture shows, are
checked on Rekognition-shaped FaceDetails."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageFilter

from face_engine.rekognition import face_details
from gallery import catalog_items, portrait_review
from tests.conftest import DEMO, shared_data
from tests.unit.test_domain_face_checks import face_detail

PASS = (catalog_items.PENDING_REVIEW, None)


class EngineRekognition:
    """detect_faces answered as the local stack answers it (gallery_local/stack.py): the bytes
    decoded by OpenCV and given to the real face engine. Not a stand-in for AWS's behaviour: the
    detector, pose, quality and eye figures are the engine's own. Records what was asked."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def detect_faces(self, Image: dict, Attributes: list[str]) -> dict:  # noqa: N803 (boto3's names)
        self.calls.append({"bytes": len(Image["Bytes"]), "Attributes": Attributes})
        bgr = cv2.imdecode(np.frombuffer(Image["Bytes"], np.uint8), cv2.IMREAD_COLOR)
        return {"FaceDetails": face_details(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))}


@pytest.fixture(scope="module")
def rekognition() -> EngineRekognition:
    return EngineRekognition()


def portrait(name: str) -> Image.Image:
    return Image.open(DEMO / "portraits" / name).convert("RGB")


def jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=92)
    return buf.getvalue()


def test_a_good_portrait_passes_and_all_attributes_are_asked(rekognition):
    assert portrait_review.review(rekognition, (DEMO / "portraits" / "kowalievska.jpg").read_bytes()) == PASS
    assert rekognition.calls[-1]["Attributes"] == ["ALL"]


@pytest.mark.parametrize("path", sorted((DEMO / "portraits").glob("*.jpg")), ids=lambda p: p.stem)
def test_the_bundled_portraits(rekognition, path):
    # te-papa's sitter looks over her shoulder (yaw 37 degrees); the rest are frontal portraits.
    expected = (catalog_items.REJECTED, "FaceNotFrontal") if path.stem == "te-papa" else PASS
    assert portrait_review.review(rekognition, path.read_bytes()) == expected


def test_two_portraits_side_by_side_are_several_faces(rekognition):
    left, right = portrait("mona-lisa.jpg"), portrait("castiglione.jpg")
    both = Image.new("RGB", (left.width + right.width, max(left.height, right.height)))
    both.paste(left, (0, 0))
    both.paste(right, (left.width, 0))
    assert portrait_review.review(rekognition, jpeg(both)) == (catalog_items.REJECTED, "SeveralFaces")


def test_a_small_face_in_the_background_is_ignored(rekognition):
    # Mona Lisa at half her size in the corner of another portrait: her face is under a third of
    # the sitter's height (0.09 against 0.33), a face in the background, not a second sitter.
    sitter, small = portrait("kowalievska.jpg"), portrait("mona-lisa.jpg")
    small = small.resize((small.width // 2, small.height // 2), Image.LANCZOS)
    sitter.paste(small, (sitter.width - small.width, sitter.height - small.height))
    faces = EngineRekognition().detect_faces(Image={"Bytes": jpeg(sitter)}, Attributes=["ALL"])["FaceDetails"]
    assert len(faces) == 2 and min(f["Confidence"] for f in faces) >= 80  # both count as faces
    assert portrait_review.review(rekognition, jpeg(sitter)) == PASS


def test_a_portrait_pasted_small_into_a_large_canvas_is_too_small(rekognition):
    # The face stays 338 px tall, plenty of pixels, but is a tenth of the picture's height.
    face = portrait("kowalievska.jpg")
    canvas = Image.new("RGB", (3200, 3200), (128, 128, 128))
    canvas.paste(face, ((canvas.width - face.width) // 2, (canvas.height - face.height) // 2))
    assert portrait_review.review(rekognition, jpeg(canvas)) == (catalog_items.REJECTED, "FaceTooSmall")


@pytest.mark.parametrize(
    "box",
    [(0, 0, 677, 300), (0, 230, 677, 1024), (300, 0, 677, 1024)],
    ids=["cut-at-the-mouth", "cut-at-the-forehead", "cut-through-a-cheek"],
)
def test_a_portrait_cropped_through_the_face_is_cut_off(rekognition, box):
    # mona-lisa.jpg is 677 x 1024; her face spans about x 237-406, y 174-365.
    cropped = portrait("mona-lisa.jpg").crop(box)
    assert portrait_review.review(rekognition, jpeg(cropped)) == (catalog_items.REJECTED, "FaceCutOff")


def test_a_darkened_portrait_is_too_dark(rekognition):
    # A quarter of the light: the face's Brightness falls from 37 to about 9. Its Sharpness
    # falls too (13), but the darkness is the cause and is named.
    dark = Image.eval(portrait("kowalievska.jpg"), lambda v: v // 4)
    assert portrait_review.review(rekognition, jpeg(dark)) == (catalog_items.REJECTED, "FaceTooDark")


@pytest.mark.parametrize("name", ["kowalievska.jpg", "mona-lisa.jpg", "straw-hat.jpg"])
def test_a_blurred_portrait_is_too_blurry(rekognition, name):
    # A Gaussian blur of 2% of the face's width (3-6 px here): Sharpness 3-6 against 54-88 before.
    img = portrait(name)
    face_width = {"kowalievska.jpg": 295, "mona-lisa.jpg": 169, "straw-hat.jpg": 130}[name]
    blurred = img.filter(ImageFilter.GaussianBlur(0.02 * face_width))
    assert portrait_review.review(rekognition, jpeg(blurred)) == (catalog_items.REJECTED, "FaceTooBlurry")


def test_noise_has_no_face(rekognition):
    noise = np.random.default_rng(7).integers(0, 256, (1024, 768, 3), dtype=np.uint8)
    assert portrait_review.review(rekognition, jpeg(Image.fromarray(noise))) == (
        catalog_items.REJECTED,
        "NoFaceDetected",
    )


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all" * 10, (DEMO / "portraits" / "mona-lisa.jpg").read_bytes()[:2000]],
    ids=["empty", "text", "truncated-jpeg"],
)
def test_bytes_that_are_not_an_image(data):
    class Unused:
        def detect_faces(self, **kwargs):
            raise AssertionError("Rekognition is not asked about bytes that are not an image")

    assert portrait_review.review(Unused(), data) == (catalog_items.REJECTED, "NotAnImage")


def test_a_webp_portrait_is_sent_to_rekognition_as_jpeg(rekognition):
    # Rekognition reads JPEG and PNG only; an image model may answer WebP.
    buf = io.BytesIO()
    portrait("kowalievska.jpg").save(buf, format="WEBP", quality=90)
    assert portrait_review.review(rekognition, buf.getvalue()) == PASS


# --- the shared hard cases (../shared/data) ------------------------------------------------------

HARD_CASES = [
    ("portraits/Girl_with_a_Pearl_Earring.jpg", "FaceNotFrontal"),  # the turned face
    ("portraits/karl-edwards-W3v3VFSB7-s-unsplash.jpg", "FaceTooSmall"),  # full-length, in a street
    ("portraits/Gustav_Klimt.jpg", "FaceTooSmall"),  # Adele's face in a large gold canvas
    ("portraits/ada-lovelace-chalon-c1840.jpg", "FaceTooSmall"),  # a full-length watercolour
    ("photos/two_people.jpg", "SeveralFaces"),
    ("photos/obama_partial_face.jpg", "FaceCutOff"),  # cut off at the frame
    ("portraits/marie-curie-c1920.jpg", None),
    ("portraits/animation/openclipart-blue-girl.jpg", None),
]


@pytest.mark.parametrize("relative,reason", HARD_CASES, ids=[Path(c[0]).stem for c in HARD_CASES])
def test_shared_hard_cases(rekognition, relative, reason):
    path = shared_data(relative)
    expected = (catalog_items.REJECTED, reason) if reason else PASS
    assert portrait_review.review(rekognition, path.read_bytes()) == expected


# --- rules no bundled picture shows, on Rekognition-shaped FaceDetails ---------------------------


def test_closed_eyes_and_sunglasses_are_told_apart():
    assert portrait_review.problem([face_detail(eyes_open=(False, 99.0))], 896, 1152) == "EyesClosed"
    # Stricter than the crop step, which asks 90 before turning a visitor away.
    assert portrait_review.problem([face_detail(eyes_open=(False, 85.0))], 896, 1152) == "EyesClosed"
    assert portrait_review.problem([face_detail(eyes_open=(False, 70.0))], 896, 1152) is None
    assert portrait_review.problem([face_detail(sunglasses=(True, 99.0))], 896, 1152) == "EyesCovered"
    sunglasses_and_closed = face_detail(sunglasses=(True, 99.0), eyes_open=(False, 99.0))
    assert portrait_review.problem([sunglasses_and_closed], 896, 1152) == "EyesCovered"


def test_a_box_reaching_past_the_frame_is_cut_off():
    # Real Rekognition reports such a box with a negative (or > 1) edge.
    assert portrait_review.problem([face_detail(top=-0.05, height=0.4)], 896, 1152) == "FaceCutOff"
    assert portrait_review.problem([face_detail(left=0.7, width=0.35)], 896, 1152) == "FaceCutOff"
    assert portrait_review.problem([face_detail(top=0.05, height=0.4)], 896, 1152) is None


def test_the_second_face_rule_and_unconfident_detections():
    main = face_detail(left=0.1, width=0.3, height=0.4)
    half, under_half = face_detail(left=0.6, width=0.15, height=0.2), face_detail(left=0.6, width=0.14, height=0.19)
    assert portrait_review.problem([main, half], 896, 1152) == "SeveralFaces"
    assert portrait_review.problem([main, under_half], 896, 1152) is None
    # A sizeable detection under the crop step's confidence is not counted as a face.
    assert portrait_review.problem([main, face_detail(left=0.6, confidence=60.0)], 896, 1152) is None
    assert portrait_review.problem([face_detail(confidence=60.0)], 896, 1152) == "NoFaceDetected"


def test_a_tiny_image_is_too_small_without_asking_rekognition():
    class Unused:
        def detect_faces(self, **kwargs):
            raise AssertionError("Rekognition refuses a side under 80 px")

    assert portrait_review.review(Unused(), jpeg(Image.new("RGB", (60, 60)))) == (
        catalog_items.REJECTED,
        "FaceTooSmall",
    )


def test_every_reason_has_an_operator_sentence():
    for name, sentence in portrait_review.REASONS.items():
        assert sentence.endswith(".") and name not in sentence
        assert portrait_review.message(name) == sentence
    assert portrait_review.message("SomethingNew") == "SomethingNew"
