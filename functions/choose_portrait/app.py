"""ChoosePortrait: an approved catalog portrait for the visit's theme."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from gallery import catalog
from gallery.contracts import ChoosePortraitInput, Portrait
from gallery.runtime import logger, table, timed, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: ChoosePortraitInput, context: LambdaContext) -> Portrait:
    visit = event["visit"]
    logger.set_correlation_id(visit["visitId"])
    # The face's traits and the visit's language come from the visit item, not from the event,
    # and how the portrait matched goes back there: see catalog.remember_traits and
    # catalog.remember_match.
    chosen, ms = timed(catalog.choose_portrait, table("CATALOG_TABLE"), table("VISITS_TABLE"), visit)
    return {**chosen, "ms": ms}
