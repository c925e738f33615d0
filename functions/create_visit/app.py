"""POST /visits: a tablet starts a visit and gets where to upload the photo."""

from typing import cast

from aws_lambda_powertools.utilities.typing import LambdaContext

from gallery import api, uploads, visits
from gallery.contracts import CreateVisitRequest, CreateVisitResponse
from gallery.runtime import client, logger, setting, table, tracer

app = api.resolver()


@app.post("/visits")
def create() -> tuple[CreateVisitResponse, int]:
    claims = api.claims(app.current_event)
    # json_object checked the type of each field the body has; new_visit checks their values.
    body = cast(CreateVisitRequest, api.json_object(app.current_event, theme=str, consent=bool))
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
    created: CreateVisitResponse = {
        **visits.public_view(visit),
        "expiresAt": visit["expiresAt"],
        "ownerSecret": visit["ownerSecret"],
        "upload": upload,
    }
    return created, 201


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
