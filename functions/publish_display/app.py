"""Tell the visit's display what to show (AppSync mutation publishResult)."""

from gallery import display
from gallery.runtime import client, credentials, logger, region, setting, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    logger.set_correlation_id(event["visit"]["visitId"])
    tile = display.tile(client("s3"), setting("PHOTO_BUCKET"), event)
    return display.publish(credentials(), region(), setting("GRAPHQL_URL"), tile)
