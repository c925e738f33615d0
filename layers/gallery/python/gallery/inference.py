"""SageMaker async inference behind a Step Functions task token.

`invoke` stores the task token under the inference id and starts the async invocation.
SageMaker reports on the endpoint's success or error SNS topic; `callback` turns that
notification into SendTaskSuccess or SendTaskFailure."""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from botocore.exceptions import ClientError

from gallery import display, keys
from gallery.contracts import AsyncInferenceNotification, CallbackResult, InferenceStarted, InvokeEndpointInput
from gallery.errors import REJECTION_REASONS, InferenceFailed, VisitGone
from gallery.visits import PROCESSING

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sagemaker_runtime import SageMakerRuntimeClient
    from mypy_boto3_stepfunctions import SFNClient

TOKEN_TTL_SECONDS = 2 * 86400
# A request still queued after this is dropped by SageMaker. At least InferenceTimeoutSeconds'
# maximum (900 s, the cold-start bound with room), so a request that waits for an instance to
# come up is never dropped while its task still waits for it.
REQUEST_TTL_SECONDS = 900

# A child of the Powertools logger ("gallery", POWERTOOLS_SERVICE_NAME): its records go out as
# the handler's, with the visit's correlation id.
log = logging.getLogger(__name__)


def _s3_uri(uri: str) -> tuple[str, str]:
    u = urlparse(uri)
    return u.netloc, u.path.lstrip("/")


def build_payload(s3: S3Client, bucket: str, task: str, theme: str, inputs: dict[str, str]) -> bytes:
    """The model server's request body: each input image inlined as base64."""
    body: dict[str, Any] = {"task": task, "theme": theme}
    for name, key in inputs.items():
        body[name] = base64.b64encode(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).decode("ascii")
    return json.dumps(body).encode()


def has_capacity(sagemaker: SageMakerClient, endpoint: str) -> bool:
    """Whether the endpoint has an instance now; a request to one without waits for a cold start."""
    variants = sagemaker.describe_endpoint(EndpointName=endpoint).get("ProductionVariants") or []
    return any(int(v.get("CurrentInstanceCount") or 0) > 0 for v in variants)


def note_warming_up(visits: Table, visit_id: str, warming: bool) -> dict | None:
    """Tell the visit's tablet and tile that it waits for an instance (or no longer does).

    Written on the visit item, never in the execution's history; only while PROCESSING, so a
    visit that ended or was deleted meanwhile is left alone. The first note also stamps
    `firstWarmingUpAt`, in the same conditional write: it returns the visit as it was then
    (display, theme, language) exactly once per visit, for its wall tile, and None otherwise
    (capacity, a later note, a retried task, a second endpoint that is cold too)."""
    if warming:
        update = "SET warmingUp = :t, firstWarmingUpAt = if_not_exists(firstWarmingUpAt, :now)"
        values: dict[str, Any] = {":processing": PROCESSING, ":t": True, ":now": int(time.time())}
    else:
        update, values = "REMOVE warmingUp", {":processing": PROCESSING}
    try:
        resp = visits.update_item(
            Key={"visitId": visit_id},
            UpdateExpression=update,
            ConditionExpression="#s = :processing" + ("" if warming else " AND attribute_exists(warmingUp)"),
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=values,
            ReturnValues="ALL_OLD",
        )
    except ClientError as e:
        if e.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return None
    before = resp.get("Attributes") or {}
    if warming and before and "firstWarmingUpAt" not in before:
        return before
    return None


def tell_display_warming_up(
    s3: S3Client, bucket: str, visit: dict, publish: Callable[[Mapping[str, Any]], object]
) -> bool:
    """Publish the visit's WARMING_UP tile (its theme and language; the stored state keeps the
    visit id, the Display type never returns it). A failure is logged, never raised: the tile
    only informs, and the inference must start all the same."""
    try:
        publish(display.tile(s3, bucket, {"status": display.WARMING_UP, "visit": visit}))
        return True
    except Exception:  # noqa: BLE001 - whatever AppSync or the network did, the visit goes on
        log.warning("The display was not told that the visit is warming up", exc_info=True)
        return False


def invoke(
    s3: S3Client,
    runtime: SageMakerRuntimeClient,
    tokens: Table,
    bucket: str,
    request: InvokeEndpointInput,
    sagemaker: Any | None = None,
    visits: Any | None = None,
    publish: Callable[[Mapping[str, Any]], object] | None = None,
) -> InferenceStarted:
    """Start one async inference for a waiting state-machine task. With `sagemaker` and `visits`
    it first notes on the visit whether the endpoint is cold (no instance); with `publish` too,
    the first such note also puts the visit's tile in WARMING_UP (before the request is sent,
    so the final tile always comes after it)."""
    if sagemaker is not None and visits is not None:
        first = None
        try:
            first = note_warming_up(visits, request["visitId"], not has_capacity(sagemaker, request["endpoint"]))
        except ClientError:
            # The note only informs the tablet; a throttled or refused look must not cost the
            # visit its inference.
            pass
        if first is not None and publish is not None:
            tell_display_warming_up(s3, bucket, first, publish)
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


def failure_of(s3: S3Client, message: AsyncInferenceNotification) -> tuple[str, str]:
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


# SendTask* refusals that mean nobody waits for this answer any more: the task already has
# one (a repeated delivery), it timed out (its retry waits on another inference), or the
# execution ended.
_NOBODY_WAITS = ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken")


def _exists(s3: S3Client, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return True
    except ClientError as e:
        if e.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return False
        raise


def _still_processing(visits: Table, visit_id: str) -> bool:
    item = visits.get_item(
        Key={"visitId": visit_id},
        ConsistentRead=True,
        ProjectionExpression="#s",
        ExpressionAttributeNames={"#s": "status"},
    ).get("Item")
    return item is not None and item.get("status") == PROCESSING


def _clean_up(s3: S3Client, tokens: Table, bucket: str, token: dict, message: AsyncInferenceNotification) -> None:
    """Remove what only this inference needed. Every step is idempotent, so a repeated
    delivery may run it again."""
    output = (message.get("responseParameters") or {}).get("outputLocation")
    if output:
        out_bucket, out_key = _s3_uri(output)
        s3.delete_object(Bucket=out_bucket, Key=out_key)
    tokens.delete_item(Key={"inferenceId": token["inferenceId"]})
    s3.delete_object(Bucket=bucket, Key=token["inputKey"])


def _answer_success(
    s3: S3Client, sfn: SFNClient, visits: Table, bucket: str, token: dict, message: AsyncInferenceNotification
) -> str:
    result_key = token["resultKey"]
    if not _exists(s3, bucket, result_key):
        out_bucket, out_key = _s3_uri(message["responseParameters"]["outputLocation"])
        try:
            s3.copy_object(
                Bucket=bucket,
                Key=result_key,
                CopySource={"Bucket": out_bucket, "Key": out_key},
                ContentType="image/png",
                MetadataDirective="REPLACE",
            )
        except ClientError as e:
            if e.response["Error"]["Code"] not in ("NoSuchKey", "404"):
                raise
            # The output is gone: a delivery of the same message running at the same time
            # answered the task and cleaned up after itself.
            return "duplicate"
        # The visitor may have deleted the visit between the check and the copy. Deleting
        # removes the item before the objects, so looking again after writing is enough: either
        # the visit is still there (and its deletion will remove this object), or it is gone
        # and the object goes now.
        if not _still_processing(visits, token["visitId"]):
            s3.delete_object(Bucket=bucket, Key=result_key)
            return "visit-gone"
    elapsed_ms = int(time.time() * 1000) - int(token["startedAtMs"])
    # A throttled or failed call raises here and leaves the output, the token and the result
    # in place, so the retried delivery can answer.
    sfn.send_task_success(
        taskToken=token["taskToken"],
        output=json.dumps({"key": result_key, "ms": elapsed_ms, "inferenceId": token["inferenceId"]}),
    )
    return "success"


def callback(
    s3: S3Client, sfn: SFNClient, tokens: Table, visits: Table, bucket: str, message: AsyncInferenceNotification
) -> CallbackResult:
    """Resume the waiting task for one SageMaker async notification.

    Idempotent: SNS delivers at least once and Lambda retries a failed delivery, possibly while
    another delivery of the same message runs. The result is copied only if it is absent, the
    engine's output is deleted only after SendTaskSuccess succeeded, a repeated delivery ends
    as a success with the one result, and nothing is written for a visit that was deleted or
    has already ended."""
    inference_id = message.get("inferenceId")
    token: dict[str, Any] | None = (
        tokens.get_item(Key={"inferenceId": inference_id}, ConsistentRead=True).get("Item") if inference_id else None
    )
    if token is None:
        # Unknown, or already answered: nobody waits for it.
        return {"inferenceId": inference_id, "outcome": "ignored"}
    result: CallbackResult = {"inferenceId": inference_id, "outcome": ""}
    try:
        if not _still_processing(visits, token["visitId"]):
            # Deleted by the visitor, or already ended (failed, or done by an earlier answer).
            # Nothing is written; if the execution still waits, it learns why and cleans up.
            outcome = "visit-gone"
        elif message.get("invocationStatus") == "Completed":
            outcome = _answer_success(s3, sfn, visits, bucket, token, message)
        else:
            error, cause = failure_of(s3, message)
            sfn.send_task_failure(taskToken=token["taskToken"], error=error, cause=cause[:32000])
            outcome, result["error"] = "failure", error
        if outcome == "visit-gone":
            sfn.send_task_failure(
                taskToken=token["taskToken"], error=VisitGone.__name__, cause=VisitGone.default_message
            )
    except ClientError as e:
        if e.response["Error"]["Code"] not in _NOBODY_WAITS:
            raise
        # A repeated delivery whose twin answered first, or an answer after the task timed out.
        outcome = "too-late"
    result["outcome"] = outcome
    _clean_up(s3, tokens, bucket, token, message)
    return result
