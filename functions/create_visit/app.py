"""POST /visits: a tablet starts a visit and gets where to upload the photo."""

from gallery import api, uploads, visits
from gallery.runtime import client, logger, setting, table, tracer

app = api.resolver()


@app.post("/visits")
def create() -> tuple[dict, int]:
    claims = api.claims(app.current_event)
    body = api.json_object(app.current_event, theme=str, consent=bool)
    visit = visits.new_visit(
        table("VISITS_TABLE"),
        claims.get("custom:displayId", ""),
        body.get("theme", ""),
        body.get("consent"),
        int(setting("RESULT_RETENTION_DAYS")),
        api.language(body),
    )
    logger.set_correlation_id(visit["visitId"])
    upload = uploads.presigned_post(client("s3"), setting("PHOTO_BUCKET"), visit["displayId"], visit["visitId"])
    # The owner secret is in this answer only: the tablet hands it to the visitor as a private link.
    view = {**visits.public_view(visit), "expiresAt": visit["expiresAt"], "ownerSecret": visit["ownerSecret"]}
    return {**view, "upload": upload}, 201


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
