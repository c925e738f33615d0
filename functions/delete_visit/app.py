"""DELETE /visits/{visitId}: the visitor's "delete my photos now". Only the owner secret of the
visitor's private link (Authorization: Owner <secret>) deletes; anything else is a 403."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from gallery import api, privacy
from gallery.contracts import DeleteVisitResponse
from gallery.runtime import client, logger, setting, table, tracer

app = api.resolver()


@app.delete("/visits/<visit_id>")
def delete(visit_id: str) -> DeleteVisitResponse:
    logger.set_correlation_id(visit_id)
    secret = privacy.owner_secret(app.current_event.headers.get("Authorization"))
    return privacy.delete_visit(
        client("s3"),
        table("VISITS_TABLE"),
        table("DISPLAYS_TABLE"),
        table("TOKENS_TABLE"),
        setting("PHOTO_BUCKET"),
        visit_id,
        secret,
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
