"""ChoosePortrait: an approved catalog portrait for the visit's theme."""

import time

from gallery import catalog
from gallery.runtime import logger, table, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    visit = event["visit"]
    logger.set_correlation_id(visit["visitId"])
    started = time.perf_counter()
    portrait = catalog.choose_portrait(table("CATALOG_TABLE"), table("VISITS_TABLE"), visit, event.get("face") or {})
    portrait["ms"] = int((time.perf_counter() - started) * 1000)
    return portrait
