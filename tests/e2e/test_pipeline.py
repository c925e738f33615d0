"""A visit end to end on the local stack: tablet -> S3 -> EventBridge -> state machine ->
handlers -> face engine -> DynamoDB, AppSync and Slack. Faults are injected where a real
deployment would meet them."""

from __future__ import annotations

import io
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from gallery_local.demo import DEMO
from gallery_local.sagemaker_local import ERROR, HANG
from gallery_local.tablet import Tablet, Visit
from tests.e2e.conftest import jpeg, png, state_names, task_output

VISITOR = (DEMO / "photos" / "visitor-a.jpg").read_bytes()
HAPPY_STATES = [
    "Configure",
    "ClaimVisit",
    "CropFace",
    "ChoosePortrait",
    "PortraitChosen",
    "SwapFace",
    "RestoreFace",
    "SaveResult",
    "Notify",
    "PublishDisplay",
    "NotifySlack",
    "Done",
]


def objects(stack, prefix: str) -> list[str]:
    resp = stack.client("s3").list_objects_v2(Bucket=stack.bucket, Prefix=prefix)
    return [o["Key"] for o in resp.get("Contents", [])]


def item(stack, visit_id: str) -> dict | None:
    return stack.table("VisitsTable").get_item(Key={"visitId": visit_id}).get("Item")


def assert_rejected(stack, visit, reason: str) -> None:
    assert visit.status == "REJECTED", visit.view
    assert visit.view["reason"] == reason
    assert visit.view["message"]  # a sentence the tablet shows
    stored = item(stack, visit.visit_id)
    assert stored["status"] == "REJECTED" and stored["reason"] == reason
    # Nothing half-written: the photo and any crop are gone, no result exists.
    assert objects(stack, visit.upload_key) == []
    assert objects(stack, f"faces/{visit.visit_id}") == []
    assert objects(stack, f"results/{visit.visit_id}") == []
    if "executionArn" in stored:  # the tablet sees REJECTED while the display is still being told
        stack.wait_execution(stored["executionArn"])
    states = state_names(stack, stored["executionArn"]) if "executionArn" in stored else []
    if states:
        assert "SwapFace" not in states or reason in ("NoFaceDetected", "FaceTooSmall", "FaceNotFrontal", "EyesCovered")
        assert states[-1] == "Rejected"
    published = stack.appsync.published_for(visit.visit_id)
    assert any(p["displayId"] == visit.display_id and p["status"] == "REJECTED" for p in published)


def test_a_visit_becomes_a_portrait(stack):
    tablet = Tablet(stack, 1)
    visit = tablet.visit(VISITOR, "painting")
    assert visit.status == "DONE", visit.view
    stored = item(stack, visit.visit_id)
    assert stored["resultKey"] == f"results/{visit.visit_id}.png"
    assert set(stored["timings"]) == {"cropMs", "portraitMs", "swapMs", "restoreMs"}
    # The tablet sees DONE once SaveResult wrote it, while the display and Slack are still told.
    assert stack.wait_execution(stored["executionArn"])["status"] == "SUCCEEDED"
    names = state_names(stack, stored["executionArn"])
    # The two Notify branches run in parallel, in either order.
    assert names[:9] + sorted(names[9:11]) + names[11:] == HAPPY_STATES[:9] + sorted(HAPPY_STATES[9:11]) + ["Done"]

    # The result is the chosen portrait with a face in it, not a copy of either input.
    result = np.asarray(Image.open(io.BytesIO(visit.image)).convert("RGB"))
    chosen = {"theme": "painting", "portraitId": stored["portraitId"]}
    portrait_key = stack.table("CatalogTable").get_item(Key=chosen)["Item"]["key"]
    portrait = np.asarray(
        Image.open(
            io.BytesIO(stack.client("s3").get_object(Bucket=stack.bucket, Key=portrait_key)["Body"].read())
        ).convert("RGB")
    )
    assert result.shape == portrait.shape
    changed = np.any(result != portrait, axis=2)
    assert 0.002 < changed.mean() < 0.5  # the face region changed, the rest of the portrait did not
    faces = stack.client("rekognition").detect_faces(Image={"Bytes": visit.image}, Attributes=["ALL"])["FaceDetails"]
    assert faces, "the portrait lost its face"

    # The display and the operators were told; intermediate objects are cleaned up.
    tile = stack.appsync.published("1")[-1]
    assert stack.appsync.published_for(visit.visit_id)[-1] == tile
    assert tile["status"] == "DONE" and tile["imageUrl"] and visit.visit_id not in json.dumps(tile)
    assert any(visit.visit_id in t and "DONE" in t for t in stack.slack.texts())
    assert objects(stack, "inference/in/swap/") == [] or all(
        visit.visit_id not in k for k in objects(stack, "inference/in/")
    )
    assert objects(stack, f"inference/swaps/{visit.visit_id}") == [f"inference/swaps/{visit.visit_id}.png"]


def test_no_face_is_rejected(stack):
    rng = np.random.default_rng(7)
    landscape = Image.fromarray(
        (rng.random((600, 800, 3)) * 60 + np.linspace(80, 200, 800)[None, :, None]).astype(np.uint8)
    )
    visit = Tablet(stack, 2).visit(jpeg(landscape), "travel")
    assert_rejected(stack, visit, "NoFaceDetected")


def test_a_face_too_small_is_rejected(stack):
    # A low-resolution photo: the face is about 50 px across.
    photo = Image.open(io.BytesIO(VISITOR)).convert("RGB")
    small = photo.resize((photo.width // 5, photo.height // 5), Image.LANCZOS)
    visit = Tablet(stack, 2).visit(jpeg(small), "travel")
    assert_rejected(stack, visit, "FaceTooSmall")


def group_photo() -> bytes:
    """Two visitors side by side, one nearer the camera (larger) than the other."""
    near = Image.open(DEMO / "photos" / "visitor-b.jpg").convert("RGB").resize((700, 700))
    far = Image.open(io.BytesIO(VISITOR)).convert("RGB")
    far = far.resize((far.width * 420 // far.height, 420))
    canvas = Image.new("RGB", (near.width + far.width + 60, 760), (90, 95, 100))
    canvas.paste(far, (20, 300))
    canvas.paste(near, (far.width + 40, 30))
    return jpeg(canvas)


def test_a_blurred_photo_is_rejected(stack):
    photo = Image.open(io.BytesIO(VISITOR)).convert("RGB")
    visit = Tablet(stack, 2).visit(jpeg(photo.filter(ImageFilter.GaussianBlur(12))), "painting")
    assert_rejected(stack, visit, "FaceTooBlurry")


def test_two_faces_the_largest_wins(stack):
    data = group_photo()
    faces = stack.client("rekognition").detect_faces(Image={"Bytes": data}, Attributes=["ALL"])["FaceDetails"]
    assert len(faces) >= 2
    largest = max(faces, key=lambda f: f["BoundingBox"]["Width"] * f["BoundingBox"]["Height"])
    visit = Tablet(stack, 3).visit(data, "realistic")
    assert visit.status == "DONE", visit.view
    crop = task_output(stack, item(stack, visit.visit_id)["executionArn"], "CropFace")["face"]
    assert crop["faces"] == len(faces)
    width, height = Image.open(io.BytesIO(data)).size
    left, top, right, bottom = crop["details"]["box"]
    b = largest["BoundingBox"]
    cx, cy = (b["Left"] + b["Width"] / 2) * width, (b["Top"] + b["Height"] / 2) * height
    assert left < cx < right and top < cy < bottom
    assert left > width * 0.3  # the nearer visitor stands on the right


def test_an_rgba_png_is_used(stack):
    photo = Image.open(io.BytesIO(VISITOR)).convert("RGBA")
    alpha = Image.new("L", photo.size, 255)
    alpha.paste(0, (0, 0, photo.width, photo.height // 12))  # a transparent strip at the top
    photo.putalpha(alpha)
    visit = Tablet(stack, 3).visit(png(photo), "painting", "image/png")
    assert visit.status == "DONE", visit.view
    face = stack.client("s3").get_object(Bucket=stack.bucket, Key=f"faces/{visit.visit_id}.png")["Body"].read()
    assert Image.open(io.BytesIO(face)).mode == "RGB"


def test_a_corrupt_file_is_rejected(stack):
    visit = Tablet(stack, 4).visit(VISITOR[: len(VISITOR) // 3], "painting")
    assert_rejected(stack, visit, "UnreadablePhoto")


def test_a_non_image_with_an_image_name_is_rejected(stack):
    visit = Tablet(stack, 4).visit(b"%PDF-1.7 this is not a photo\n" * 100, "painting")
    assert_rejected(stack, visit, "UnreadablePhoto")


def refused_upload_then_pipeline_check(stack, display: int, photo: bytes, content_type: str, reason: str) -> None:
    """The presigned POST's policy stops the upload at S3, as AWS does; an object that reaches
    uploads/ some other way (an operator's put) is still refused by the pipeline's own check."""
    tablet = Tablet(stack, display)
    code, created = tablet.start_visit("painting")
    assert code == 201
    resp = tablet.upload(created, photo, content_type)
    assert resp.status_code == 403 and "AccessDenied" in resp.text
    assert objects(stack, created["upload"]["key"]) == []
    assert item(stack, created["visitId"])["status"] == "WAITING_FOR_PHOTO"

    code, created = tablet.start_visit("painting")
    visit = Visit(created["visitId"], created["displayId"], "painting", created["upload"]["key"])
    stack.client("s3").put_object(Bucket=stack.bucket, Key=visit.upload_key, Body=photo, ContentType=content_type)
    assert_rejected(stack, tablet.follow(visit, 60), reason)


def test_a_wrong_content_type_is_refused(stack):
    refused_upload_then_pipeline_check(stack, 4, VISITOR, "application/octet-stream", "WrongContentType")


def test_a_30mb_file_is_refused(stack):
    big = VISITOR + b"\0" * (30 * 1024 * 1024)
    refused_upload_then_pipeline_check(stack, 5, big, "image/jpeg", "PhotoTooLarge")


def test_a_visit_without_consent(stack):
    tablet = Tablet(stack, 5)
    code, body = tablet.start_visit("painting", consent=False)
    assert code == 400 and body["error"] == "ConsentMissing"
    # A visit stored without consent (an old tablet build) never gets processed.
    visit_id = "ab" * 16
    stack.table("VisitsTable").put_item(
        Item={
            "visitId": visit_id,
            "displayId": "5",
            "theme": "painting",
            "status": "WAITING_FOR_PHOTO",
            "consent": False,
            "createdAt": "2026-01-01T00:00:00Z",
        }
    )
    key = f"uploads/5/{visit_id}.jpg"
    stack.client("s3").put_object(Bucket=stack.bucket, Key=key, Body=VISITOR, ContentType="image/jpeg")
    arn = stack.execution_for(key)
    assert stack.wait_execution(arn)["status"] == "SUCCEEDED"
    assert state_names(stack, arn)[-1] == "Rejected"
    stored = item(stack, visit_id)
    assert stored["status"] == "REJECTED" and stored["reason"] == "ConsentMissing"
    assert objects(stack, key) == [] and objects(stack, f"faces/{visit_id}") == []


@pytest.mark.parametrize(
    "key", ["other/5/" + "cd" * 16 + ".jpg", "uploads/5/not-a-visit.jpg", "uploads/5/" + "ef" * 16 + ".jpg"]
)
def test_an_upload_outside_a_visit_is_not_processed(stack, key):
    before = {e["executionArn"] for e in stack.executions()}
    stack.client("s3").put_object(Bucket=stack.bucket, Key=key, Body=VISITOR, ContentType="image/jpeg")
    if not key.startswith("uploads/"):
        time.sleep(1)
        assert {e["executionArn"] for e in stack.executions()} == before  # the rule only matches uploads/
        # Started by hand (as with `sam local invoke` of a hand-made event), it still refuses.
        event = json.loads((Path(__file__).parents[2] / "events" / "s3_object_created.json").read_text())
        event["detail"]["bucket"]["name"] = stack.bucket
        event["detail"]["object"]["key"] = key
        arn = stack.client("stepfunctions").start_execution(
            stateMachineArn=stack.state_machine_arn, name=f"manual-{time.time_ns()}", input=json.dumps(event)
        )["executionArn"]
    else:
        arn = stack.execution_for(key)
    result = stack.wait_execution(arn)
    assert result["status"] == "FAILED" and result["error"] == "UploadNotAccepted"
    assert "SwapFace" not in state_names(stack, arn)
    assert objects(stack, key) == [key]  # not ours to delete


def test_a_swap_timeout_is_retried(stack):
    stack.endpoints.inject(stack.swap_endpoint, HANG)
    visit = Tablet(stack, 6).visit(VISITOR, "painting", timeout=120)
    assert visit.status == "DONE", visit.view
    events = stack.history(item(stack, visit.visit_id)["executionArn"])
    kinds = [e["type"] for e in events]
    assert "TaskTimedOut" in kinds
    swap_attempts = [
        e for e in stack.endpoints.invocations if e["endpoint"] == stack.swap_endpoint and e["fault"] == HANG
    ]
    assert swap_attempts


def test_a_swap_that_always_fails_fails_the_visit(stack):
    stack.endpoints.inject(stack.swap_endpoint, ERROR, ERROR, ERROR)
    slack_before = len(stack.slack.texts())
    visit = Tablet(stack, 6).visit(VISITOR, "painting")
    assert visit.status == "FAILED", visit.view
    stored = item(stack, visit.visit_id)
    assert stored["error"] == "InferenceFailed"
    assert "(500)" in stored["cause"] and "model crashed" in stored["cause"]  # the endpoint's own words
    assert stack.wait_execution(stored["executionArn"])["status"] == "FAILED"
    alerts = stack.slack.texts()[slack_before:]
    assert any(visit.visit_id in t and "FAILED" in t and "InferenceFailed" in t for t in alerts)
    assert stack.appsync.published("6")[-1]["status"] == "FAILED"
    assert objects(stack, visit.upload_key) == [visit.upload_key]  # kept for an operator's re-run
    assert objects(stack, f"results/{visit.visit_id}") == []


def test_slack_down_still_done(stack):
    stack.slack.down = True
    visit = Tablet(stack, 7).visit(VISITOR, "animation")
    assert visit.status == "DONE", visit.view
    arn = item(stack, visit.visit_id)["executionArn"]
    assert stack.wait_execution(arn)["status"] == "SUCCEEDED"  # Slack is told after the tablet sees DONE
    names = state_names(stack, arn)
    assert "NotifySlackSkipped" in names and names[-1] == "Done"


def test_a_replayed_upload_event_runs_once(stack):
    visit = Tablet(stack, 8).visit(VISITOR, "realistic")
    assert visit.status == "DONE"
    first = item(stack, visit.visit_id)
    # The display and Slack are told after the tablet sees DONE: the first run ends before the replay.
    assert stack.wait_execution(first["executionArn"])["status"] == "SUCCEEDED"
    # EventBridge delivers at least once: send the same Object Created event again.
    event = json.loads(stack.client("stepfunctions").describe_execution(executionArn=first["executionArn"])["input"])
    before = {e["executionArn"] for e in stack.executions()}
    stack.client("events").put_events(
        Entries=[
            {
                "Source": "aws.s3",
                "DetailType": "Object Created",
                "Detail": json.dumps(event["detail"]),
                "Resources": event["resources"],
            }
        ]
    )
    deadline = time.time() + 10
    while time.time() < deadline and not ({e["executionArn"] for e in stack.executions()} - before):
        time.sleep(0.05)
    (replay,) = {e["executionArn"] for e in stack.executions()} - before
    assert stack.wait_execution(replay)["status"] == "SUCCEEDED"
    assert state_names(stack, replay) == ["Configure", "ClaimVisit", "AlreadyProcessed"]
    assert item(stack, visit.visit_id) == first  # untouched
    assert len(stack.appsync.published_for(visit.visit_id)) == 1
    assert len([t for t in stack.slack.texts() if visit.visit_id in t]) == 1


def test_eight_visits_on_eight_displays_at_once(stack):
    photos = [(DEMO / "photos" / name).read_bytes() for name in ("visitor-a.jpg", "visitor-b.jpg", "visitor-c.jpg")]
    themes = ["painting", "realistic", "travel", "animation"]
    tablets = [Tablet(stack, d) for d in range(1, 9)]
    for tablet in tablets:
        tablet.poll_seconds = 1.0  # as the tablet page polls; eight fast pollers would starve the stack's CPU
    with ThreadPoolExecutor(max_workers=8) as pool:
        visits = list(pool.map(lambda i: tablets[i].visit(photos[i % 3], themes[i % 4], timeout=180), range(8)))
    assert [v.status for v in visits] == ["DONE"] * 8, [
        (v.status, v.view.get("reason"), v.view.get("message")) for v in visits
    ]
    for display, visit in enumerate(visits, start=1):
        assert visit.display_id == str(display)
        # The display is told after the tablet sees DONE: read its tiles once the execution has ended.
        assert stack.wait_execution(item(stack, visit.visit_id)["executionArn"])["status"] == "SUCCEEDED"
        assert stack.appsync.published(display)[-1] == stack.appsync.published_for(visit.visit_id)[-1]
        assert item(stack, visit.visit_id)["displayId"] == str(display)
