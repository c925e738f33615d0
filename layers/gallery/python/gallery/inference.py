"""SageMaker async inference behind a Step Functions task token.

`invoke` stores the task token under the inference id and starts the async invocation.
SageMaker reports on the endpoint's success or error SNS topic; `callback` turns that
notification into SendTaskSuccess or SendTaskFailure."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any
from urllib.parse import urlparse

from botocore.exceptions import ClientError

from gallery import keys
from gallery.errors import REJECTION_REASONS, InferenceFailed

TOKEN_TTL_SECONDS = 2 * 86400
REQUEST_TTL_SECONDS = 600  # a request still queued after this is dropped by SageMaker


def _s3_uri(uri: str) -> tuple[str, str]:
    u = urlparse(uri)
    return u.netloc, u.path.lstrip("/")


def build_payload(s3: Any, bucket: str, task: str, theme: str, inputs: dict[str, str]) -> bytes:
    """The model server's request body: each input image inlined as base64."""
    body: dict[str, Any] = {"task": task, "theme": theme}
    for name, key in inputs.items():
        body[name] = base64.b64encode(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).decode("ascii")
    return json.dumps(body).encode()


def invoke(s3: Any, runtime: Any, tokens: Any, bucket: str, request: dict) -> dict:
    """Start one async inference for a waiting state-machine task."""
    inference_id = keys.inference_id(request["visitId"], uuid.uuid4().hex[:16])
    task = request["task"]
    input_key = keys.inference_input_key(task, inference_id)
    s3.put_object(
        Bucket=bucket,
        Key=input_key,
        Body=build_payload(s3, bucket, task, request["theme"], request["inputs"]),
        ContentType="application/json",
    )
    tokens.put_item(
        Item={
            "inferenceId": inference_id,
            "taskToken": request["taskToken"],
            "visitId": request["visitId"],
            "task": task,
            "resultKey": request["resultKey"],
            "inputKey": input_key,
            "startedAtMs": int(time.time() * 1000),
            "expiresAt": int(time.time()) + TOKEN_TTL_SECONDS,
        }
    )
    runtime.invoke_endpoint_async(
        EndpointName=request["endpoint"],
        InputLocation=f"s3://{bucket}/{input_key}",
        ContentType="application/json",
        Accept="image/png",
        InferenceId=inference_id,
        RequestTTLSeconds=REQUEST_TTL_SECONDS,
    )
    return {"inferenceId": inference_id}


def failure_of(s3: Any, message: dict) -> tuple[str, str]:
    """(error, cause) for a failed inference. A refusal by the engine (it could not use the
    face) keeps its name, so the state machine can reject rather than fail the visit."""
    reason = message.get("failureReason") or "The endpoint reported a failure."
    location = (message.get("responseParameters") or {}).get("failureLocation")
    if location:
        try:
            bucket, key = _s3_uri(location)
            body = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            if body.get("error") in REJECTION_REASONS:
                # The engine names the reason; the sentence the visitor reads is the layer's.
                return body["error"], REJECTION_REASONS[body["error"]]().message
            if body.get("message"):
                reason = f"{reason} The model said: {body['message']}"
        except (ClientError, ValueError, AttributeError):
            pass
    return InferenceFailed.__name__, reason


def callback(s3: Any, sfn: Any, tokens: Any, bucket: str, message: dict) -> dict:
    """Resume the waiting task for one SageMaker async notification."""
    inference_id = message.get("inferenceId")
    token = (
        tokens.get_item(Key={"inferenceId": inference_id}, ConsistentRead=True).get("Item") if inference_id else None
    )
    if token is None:
        # Unknown, or already answered: nobody waits for it.
        return {"inferenceId": inference_id, "outcome": "ignored"}
    elapsed_ms = int(time.time() * 1000) - int(token["startedAtMs"])
    # The token is removed only once the task has its answer, so that a failure here leaves it
    # for SNS's retry of this notification. A duplicate notification that races this one gets
    # a refused SendTask* below and is ignored.
    try:
        if message.get("invocationStatus") == "Completed":
            out_bucket, out_key = _s3_uri(message["responseParameters"]["outputLocation"])
            s3.copy_object(
                Bucket=bucket,
                Key=token["resultKey"],
                CopySource={"Bucket": out_bucket, "Key": out_key},
                ContentType="image/png",
                MetadataDirective="REPLACE",
            )
            s3.delete_object(Bucket=out_bucket, Key=out_key)
            sfn.send_task_success(
                taskToken=token["taskToken"],
                output=json.dumps({"key": token["resultKey"], "ms": elapsed_ms, "inferenceId": inference_id}),
            )
            result = {"inferenceId": inference_id, "outcome": "success"}
        else:
            error, cause = failure_of(s3, message)
            sfn.send_task_failure(taskToken=token["taskToken"], error=error, cause=cause[:32000])
            result = {"inferenceId": inference_id, "outcome": "failure", "error": error}
    except ClientError as e:
        if e.response["Error"]["Code"] not in ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken"):
            raise
        result = {"inferenceId": inference_id, "outcome": "too-late"}
    tokens.delete_item(Key={"inferenceId": inference_id})
    s3.delete_object(Bucket=bucket, Key=token["inputKey"])
    return result
