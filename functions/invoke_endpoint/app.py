"""SwapFace / RestoreFace: start an async inference; the callback resumes the task."""

from gallery import inference
from gallery.runtime import client, logger, setting, table, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    logger.set_correlation_id(event["visitId"])
    return inference.invoke(
        client("s3"),
        client("sagemaker-runtime"),
        table("TOKENS_TABLE"),
        setting("PHOTO_BUCKET"),
        event,
        sagemaker=client("sagemaker"),
        visits=table("VISITS_TABLE"),
    )
