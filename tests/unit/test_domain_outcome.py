"""gallery.outcome: why a visit did not become a portrait, and recording it."""

from __future__ import annotations

import json

import pytest

from gallery import outcome
from tests.unit.conftest import create_visits_table

REGION = "us-east-1"
BUCKET = "past-life-gallery-dev-photobucket"
VISIT = "0123456789abcdef0123456789abcdef"
UPLOAD = f"uploads/3/{VISIT}.jpg"
EXEC = "arn:aws:states:us-east-1:123456789012:execution:PipelineStateMachine-Xq3nT8bW2kLp:run"


def lambda_cause(error_type: str, message: str) -> str:
    """The Cause of a Lambda function error caught by a Task's Catch."""
    return json.dumps(
        {
            "errorMessage": message,
            "errorType": error_type,
            "requestId": "7f3b2a1c-9d8e-4f6a-b5c4-d3e2f1a0b9c8",
            "stackTrace": ['  File "/var/task/app.py", line 15, in handler\n'],
        }
    )


# ---------------------------------------------------------------- describe_error


def test_a_lambda_error_gives_its_message():
    error = {"Error": "FaceTooSmall", "Cause": lambda_cause("FaceTooSmall", "Please come closer to the tablet.")}
    assert outcome.describe_error(error) == ("FaceTooSmall", "Please come closer to the tablet.")


def test_a_json_cause_with_message_instead_of_error_message():
    error = {
        "Error": "DynamoDB.ConditionalCheckFailedException",
        "Cause": json.dumps({"message": "The conditional request failed"}),
    }
    assert outcome.describe_error(error) == (
        "DynamoDB.ConditionalCheckFailedException",
        "The conditional request failed",
    )


def test_a_plain_text_cause_is_kept():
    cause = "ClientError: Received server error (500) from model. See the SageMaker Endpoint logs."
    assert outcome.describe_error({"Error": "InferenceFailed", "Cause": cause}) == ("InferenceFailed", cause)


@pytest.mark.parametrize("cause", ['["a", "list"]', "42", '"a JSON string"'])
def test_json_that_is_not_an_object_is_kept_as_text(cause):
    assert outcome.describe_error({"Error": "States.TaskFailed", "Cause": cause}) == ("States.TaskFailed", cause)


@pytest.mark.parametrize(
    "error,expected",
    [
        ({"Error": "FaceNotFrontal"}, ("FaceNotFrontal", "Please look straight at the camera.")),
        (
            {"Error": "NoFaceDetected", "Cause": ""},
            ("NoFaceDetected", "We couldn't see a face. Please look at the camera."),
        ),
        (
            {"Error": "InferenceFailed", "Cause": None},
            ("InferenceFailed", "The face engine could not finish this photo."),
        ),
        (
            {"Error": "NoPortraitAvailable"},
            ("NoPortraitAvailable", "No approved portrait is available for this theme."),
        ),
        ({"Error": "States.Timeout", "Cause": ""}, ("States.Timeout", "The face engine took too long.")),
        ({"Error": "States.TaskFailed"}, ("States.TaskFailed", "A step of the pipeline failed.")),
        ({"Error": "Lambda.Unknown"}, ("Lambda.Unknown", "Lambda.Unknown")),
        ({}, ("UnknownError", "UnknownError")),
    ],
)
def test_an_empty_cause_gets_a_readable_default(error, expected):
    assert outcome.describe_error(error) == expected


# ---------------------------------------------------------------- record


@pytest.fixture
def aws(aws_session):
    session = aws_session
    s3 = session.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    table = create_visits_table(session.resource("dynamodb"))
    table.put_item(Item={"visitId": VISIT, "displayId": "3", "theme": "travel", "status": "PROCESSING"})
    for key in (UPLOAD, f"faces/{VISIT}.png"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    yield s3, table


def _keys(s3) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def test_record_rejected_deletes_the_photo_and_the_face(aws):
    s3, table = aws
    error = {"Error": "EyesCovered", "Cause": lambda_cause("EyesCovered", "Please take off your sunglasses.")}
    result = outcome.record(s3, table, BUCKET, "REJECTED", UPLOAD, error, EXEC)
    assert result == {
        "recorded": True,
        "status": "REJECTED",
        "visit": {"visitId": VISIT, "displayId": "3", "theme": "travel"},
        "reason": "EyesCovered",
        "message": "Please take off your sunglasses.",
        "executionArn": EXEC,
    }
    assert _keys(s3) == set()
    item = table.get_item(Key={"visitId": VISIT})["Item"]
    assert item["status"] == "REJECTED" and item["message"] == "Please take off your sunglasses."
    assert "cause" not in item and "error" not in item


def test_record_failed_keeps_the_photo_and_a_bounded_cause(aws):
    s3, table = aws
    cause = "Traceback " + "x" * 5000
    result = outcome.record(s3, table, BUCKET, "FAILED", UPLOAD, {"Error": "States.TaskFailed", "Cause": cause}, EXEC)
    assert result["recorded"] is True and result["reason"] == "States.TaskFailed"
    assert _keys(s3) == {UPLOAD, f"faces/{VISIT}.png"}
    item = table.get_item(Key={"visitId": VISIT})["Item"]
    assert item["status"] == "FAILED" and item["error"] == "States.TaskFailed"
    assert item["cause"] == cause[:4000]


def test_record_of_a_deleted_visit_is_not_recorded(aws):
    s3, table = aws
    table.delete_item(Key={"visitId": VISIT})
    result = outcome.record(s3, table, BUCKET, "FAILED", UPLOAD, {"Error": "States.Timeout"}, EXEC)
    assert result["recorded"] is False and result["visit"] == {"visitId": VISIT, "displayId": "3", "theme": None}
    assert "Item" not in table.get_item(Key={"visitId": VISIT})


def test_record_refuses_other_statuses(aws):
    s3, table = aws
    with pytest.raises(ValueError):
        outcome.record(s3, table, BUCKET, "DONE", UPLOAD, {}, EXEC)
    assert table.get_item(Key={"visitId": VISIT})["Item"]["status"] == "PROCESSING"
