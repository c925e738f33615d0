"""ChoosePortrait: an approved catalog portrait for the visit's theme."""

from gallery import catalog
from gallery.runtime import logger, table, timed, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    visit = event["visit"]
    logger.set_correlation_id(visit["visitId"])
    # The face's traits (gender, age band) come from the visit item, not from the event:
    # see catalog.remember_traits.
    return timed(catalog.choose_portrait, table("CATALOG_TABLE"), table("VISITS_TABLE"), visit)
