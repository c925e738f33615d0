"""MarkRejected / MarkFailed: record why a visit did not become a portrait."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from gallery import event_metrics, keys, outcome
from gallery.contracts import RecordedOutcome, RecordOutcomeInput
from gallery.runtime import client, logger, metrics, setting, table, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: RecordOutcomeInput, context: LambdaContext) -> RecordedOutcome:
    try:
        logger.set_correlation_id(keys.parse_upload_key(event["key"])[1])
    except keys.KeyOutsideUploads:
        pass
    result = outcome.record(
        client("s3"),
        table("VISITS_TABLE"),
        setting("PHOTO_BUCKET"),
        event["status"],
        event["key"],
        event.get("error") or {},
        event.get("executionArn", ""),
    )
    if result["recorded"]:
        # Only the write that made the visit final counts it: a late failure of a visit that
        # already ended, or one its visitor deleted, is not a second outcome.
        event_metrics.visit_ended(metrics, result["status"])
    logger.info("visit finished", extra={"status": result["status"], "reason": result["reason"]})
    return result
