"""ChoosePortrait: an approved catalog portrait for the visit's theme."""

from gallery import catalog
from gallery.runtime import logger, table, timed, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    visit = event["visit"]
    logger.set_correlation_id(visit["visitId"])
    # The face's traits and the visit's language come from the visit item, not from the event,
    # and how the portrait matched goes back there: see catalog.remember_traits and
    # catalog.remember_match.
    return timed(catalog.choose_portrait, table("CATALOG_TABLE"), table("VISITS_TABLE"), visit)
