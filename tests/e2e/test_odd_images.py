"""Odd photos through the tablet path on the local stack: a strip no face fits in ends REJECTED
with its reason (not FAILED), a phone's multi-picture JPEG becomes a portrait, and the local
Rekognition checks an image's dimensions as AWS does, before decoding it."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from gallery_local.demo import DEMO
from gallery_local.tablet import Tablet
from tests.e2e.conftest import jpeg, png, state_names, task_output
from tests.e2e.test_pipeline import item, objects
from tests.odd_images import mpo, png_claiming, strip_png

VISITOR = Image.open(DEMO / "photos" / "visitor-a.jpg").convert("RGB")


def execution_ended(stack, execution_arn: str, timeout: float = 60) -> str:
    sfn = stack.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while (status := sfn.describe_execution(executionArn=execution_arn)["status"]) == "RUNNING":
        assert time.monotonic() < deadline, f"{execution_arn} still running"
        time.sleep(0.2)
    return status


def test_a_1_x_39_million_png_is_rejected_with_its_reason(stack):
    data = strip_png(1, 39_000_000)
    assert len(data) < 200 * 1024  # far under the upload limit
    visit = Tablet(stack, 6).visit(data, "painting", content_type="image/png", language="en")
    assert visit.status == "REJECTED", visit.view
    sentence = (
        "The photo is 1 x 39000000 pixels, far too long and narrow to show a face. Please take an ordinary photo."
    )
    assert visit.view["reason"] == "UnreadablePhoto" and visit.view["message"] == sentence
    stored = item(stack, visit.visit_id)
    assert stored["status"] == "REJECTED" and stored["reason"] == "UnreadablePhoto"
    # The tablet sees REJECTED as soon as MarkRejected writes it; the wall is told after.
    assert execution_ended(stack, stored["executionArn"]) == "SUCCEEDED"
    names = state_names(stack, stored["executionArn"])
    assert names.index("MarkRejected") == names.index("CropFace") + 1 and names[-1] == "Rejected"
    assert "MarkFailed" not in names and "ChoosePortrait" not in names
    # Nothing of the photo is left, and the wall was told with the visitor's sentence.
    assert objects(stack, visit.upload_key) == [] and objects(stack, f"faces/{visit.visit_id}") == []
    published = stack.appsync.published(visit.display_id)
    assert any(p.get("status") == "REJECTED" and p.get("reason") == sentence for p in published), published[-3:]


def test_a_phones_multi_picture_jpeg_becomes_a_portrait(stack):
    # Phones append a second picture (a depth map, a preview) after the photo: an MPO file,
    # sent as image/jpeg because that is what it is to a browser.
    depth = VISITOR.convert("L").resize((VISITOR.width // 4, VISITOR.height // 4)).convert("RGB")
    data = mpo(VISITOR, depth)
    assert Image.open(io.BytesIO(data)).format == "MPO"
    visit = Tablet(stack, 6).visit(data, "painting", content_type="image/jpeg")
    assert visit.status == "DONE", visit.view
    stored = item(stack, visit.visit_id)
    crop = task_output(stack, stored["executionArn"], "CropFace")["face"]
    left, top, right, bottom = crop["details"]["box"]
    # The face box lies in the first picture (910 x 1137), not in the quarter-size second one.
    assert right - left > VISITOR.width // 4 and bottom - top > VISITOR.height // 4
    assert right <= VISITOR.width and bottom <= VISITOR.height


def test_rekognition_checks_dimensions_before_decoding(stack):
    rekognition = stack.client("rekognition")
    faces = rekognition.detect_faces(Image={"Bytes": mpo(VISITOR, VISITOR.resize((200, 250)))})["FaceDetails"]
    assert len(faces) == 1  # an MPO is a JPEG to Rekognition: its first picture is read
    with pytest.raises(rekognition.exceptions.InvalidParameterException):
        rekognition.detect_faces(Image={"Bytes": jpeg(VISITOR.resize((79, 100)))})  # under 80 px a side
    with pytest.raises(rekognition.exceptions.ImageTooLargeException) as e:
        rekognition.detect_faces(Image={"Bytes": png_claiming(10_001, 3000)})  # a header, no pixels
    assert "10001 x 3000" in str(e.value)
    with pytest.raises(rekognition.exceptions.ImageTooLargeException):
        rekognition.detect_faces(Image={"Bytes": png_claiming(30_000, 30_000)})  # a decompression bomb
    gif = io.BytesIO()
    VISITOR.save(gif, "GIF")
    with pytest.raises(rekognition.exceptions.InvalidImageFormatException):
        rekognition.detect_faces(Image={"Bytes": gif.getvalue()})
    # 80 px a side is enough to be read.
    assert isinstance(rekognition.detect_faces(Image={"Bytes": png(VISITOR.resize((80, 80)))})["FaceDetails"], list)
