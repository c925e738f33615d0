"""SwapFace / RestoreFace: start an async inference; the callback resumes the task.

A visit that finds its endpoint without an instance is told so: `warmingUp` on the visit (the
tablet) and, the first time only, a WARMING_UP tile on its display (AppSync publishResult)."""

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from gallery import display, inference
from gallery.contracts import Display, InferenceStarted, InvokeEndpointInput
from gallery.runtime import client, credentials, logger, region, setting, table, tracer


def _publish(tile: Mapping[str, Any]) -> Display:
    return display.publish(credentials(), region(), setting("GRAPHQL_URL"), tile)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: InvokeEndpointInput, context: LambdaContext) -> InferenceStarted:
    logger.set_correlation_id(event["visitId"])
    return inference.invoke(
        client("s3"),
        client("sagemaker-runtime"),
        table("TOKENS_TABLE"),
        setting("PHOTO_BUCKET"),
        event,
        sagemaker=client("sagemaker"),
        visits=table("VISITS_TABLE"),
        publish=_publish,
    )
