"""GET /visits/{visitId}: the tablet's live status and the visitor's page."""

from gallery import api, display, visits
from gallery.errors import VisitNotFound
from gallery.runtime import client, logger, setting, table, tracer

app = api.resolver()


@app.get("/visits/<visit_id>")
def read(visit_id: str) -> dict:
    logger.set_correlation_id(visit_id)
    visit = visits.get_visit(table("VISITS_TABLE"), visit_id)
    if visit is None:
        raise VisitNotFound("This visit has expired or was deleted.")
    view = visits.public_view(visit)
    if visit.get("status") == visits.DONE:
        view["imageUrl"] = display.image_url(client("s3"), setting("PHOTO_BUCKET"), visit["resultKey"])
    return view


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
