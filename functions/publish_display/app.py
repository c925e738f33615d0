"""Tell the visit's display what to show (AppSync mutation publishResult)."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from gallery import display, event_metrics, visits
from gallery.contracts import PublishDisplayInput, PublishDisplayOutput
from gallery.runtime import client, credentials, logger, metrics, region, setting, table, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: PublishDisplayInput, context: LambdaContext) -> PublishDisplayOutput:
    logger.set_correlation_id(event["visit"]["visitId"])
    if event["status"] == visits.DONE:
        # Counted before the wall is told: a display outage must not hide a finished visit.
        event_metrics.visit_done(metrics, table("VISITS_TABLE"), event["visit"]["visitId"], event.get("timings"))
    tile = display.show(client("s3"), table("VISITS_TABLE"), setting("PHOTO_BUCKET"), event)
    if tile is None:
        # The visitor deleted the visit while it was processed: the wall must not show it.
        return {"published": False, "reason": "VisitDeleted"}
    return display.publish(credentials(), region(), setting("GRAPHQL_URL"), tile)
