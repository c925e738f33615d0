"""Tell the visit's display what to show (AppSync mutation publishResult)."""

from gallery import display
from gallery.runtime import client, credentials, logger, region, setting, table, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    logger.set_correlation_id(event["visit"]["visitId"])
    tile = display.show(client("s3"), table("VISITS_TABLE"), setting("PHOTO_BUCKET"), event)
    if tile is None:
        # The visitor deleted the visit while it was processed: the wall must not show it.
        return {"published": False, "reason": "VisitDeleted"}
    return display.publish(credentials(), region(), setting("GRAPHQL_URL"), tile)
