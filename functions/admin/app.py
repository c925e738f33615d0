"""Operators only: GET /visits (recent visits, newest first, with status, error and execution)
and POST /displays/{displayId}/refresh (publish a display's stored state again, with a freshly
signed image URL, so every wall redraws it now). The Cognito authorizer lets in any user of the
pool, tablets included; the resolver lets in only the "operators" group (403 otherwise) and
checks displayId before any route runs."""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from gallery import api, display, operators
from gallery.errors import BadRequest
from gallery.runtime import client, credentials, logger, region, setting, table, tracer

app = api.resolver(operators_only=True)


@app.get("/visits")
def list_visits() -> dict:
    params = app.current_event.query_string_parameters or {}
    try:
        limit = max(1, min(200, int(params.get("limit") or 50)))
    except ValueError:
        raise BadRequest("limit must be a number.") from None
    displays = operators.display_ids(params.get("displays") or "1-8")
    return {"visits": operators.recent_visits(table("VISITS_TABLE"), displays, limit)}


@app.post("/displays/<display_id>/refresh")
def refresh_display(display_id: str) -> dict:
    display_id = api.display_id(display_id)
    logger.append_keys(displayId=display_id)
    tile = operators.stored_tile(client("s3"), table("DISPLAYS_TABLE"), setting("PHOTO_BUCKET"), display_id)
    return {"display": display.publish(credentials(), region(), setting("GRAPHQL_URL"), tile)}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
