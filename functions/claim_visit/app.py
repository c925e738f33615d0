"""First state: accept the upload for its visit, exactly once."""

from gallery import keys, visits
from gallery.runtime import logger, table, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    display_id, visit_id = keys.parse_upload_key(event["key"])
    logger.set_correlation_id(visit_id)
    visit = visits.claim(table("VISITS_TABLE"), visit_id, display_id, event.get("executionArn", ""))
    return {
        "visitId": visit_id,
        "displayId": display_id,
        "theme": visit["theme"],
        "bucket": event["bucket"],
        "key": event["key"],
    }
