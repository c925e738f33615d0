"""First state: accept the upload for its visit, exactly once."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from gallery import event_metrics, keys, visits
from gallery.contracts import ClaimedVisit, ClaimVisitInput
from gallery.runtime import logger, metrics, table, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: ClaimVisitInput, context: LambdaContext) -> ClaimedVisit:
    display_id, visit_id = keys.parse_upload_key(event["key"])
    logger.set_correlation_id(visit_id)
    visit = visits.claim(table("VISITS_TABLE"), visit_id, display_id, event.get("executionArn", ""))
    # The claim succeeds once per visit; a replayed upload raises before this line.
    event_metrics.visit_started(metrics)
    return {
        "visitId": visit_id,
        "displayId": display_id,
        "theme": visit["theme"],
        "bucket": event["bucket"],
        "key": event["key"],
    }
