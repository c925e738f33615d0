"""DELETE /visits/{visitId}: the visitor's "delete my photos now"."""

from gallery import api, privacy
from gallery.runtime import client, logger, setting, table, tracer

app = api.resolver()


@app.delete("/visits/<visit_id>")
def delete(visit_id: str) -> dict:
    logger.set_correlation_id(visit_id)
    return privacy.delete_visit(
        client("s3"), table("VISITS_TABLE"), table("DISPLAYS_TABLE"), setting("PHOTO_BUCKET"), visit_id
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
