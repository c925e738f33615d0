"""Operators only: GET /visits (recent visits, newest first, with status, error and execution)
and POST /displays/{displayId}/refresh (publish a display's stored state again, with a freshly
signed image URL, so every wall redraws it now). The Cognito authorizer lets in any user of the
pool; this handler lets in only the "operators" group."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from boto3.dynamodb.conditions import Key

from gallery import api, display, keys, visits
from gallery.errors import BadRequest
from gallery.runtime import client, credentials, logger, region, setting, table, tracer

OPERATORS = "operators"
MAX_DISPLAYS = 64
OPERATOR_FIELDS = ("executionArn", "cause", "claimedAt", "portraitId")
DISPLAY_FIELDS = ("displayId", "visitId", "status", "story", "title", "theme", "reason")

app = api.resolver()


def groups(claims: dict) -> set[str]:
    """cognito:groups as API Gateway passes it (a string: "a", "a,b" or "[a b]") or as a list."""
    value = claims.get("cognito:groups") or []
    if isinstance(value, str):
        value = value.strip("[]").replace(",", " ").split()
    return {str(g) for g in value}


def forbidden() -> Response:
    return Response(
        status_code=403,
        content_type=content_types.APPLICATION_JSON,
        body={"error": "Forbidden", "message": "Only operators may do this."},
    )


def is_operator() -> bool:
    claims = app.current_event.request_context.authorizer.claims or {}
    return OPERATORS in groups(claims)


def display_ids(spec: str) -> list[str]:
    """ "1-8", "3" or "1,3,5-6" -> ["1", ...]; BadRequest otherwise."""
    out: list[str] = []
    for part in (spec or "").split(","):
        lo, _, hi = part.strip().partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            raise BadRequest("displays must look like 1-8 or 1,3,5.")
        out += [str(d) for d in range(int(lo), int(hi or lo) + 1) if str(d) not in out]
        if len(out) > MAX_DISPLAYS:
            raise BadRequest(f"At most {MAX_DISPLAYS} displays at once.")
    return out


def recent_visits(visit_table, displays: list[str], limit: int) -> list[dict]:
    """The newest visits of the displays (the byDisplay index, newest first, merged)."""
    items: list[dict] = []
    for display_id in displays:
        page = visit_table.query(
            IndexName="byDisplay",
            KeyConditionExpression=Key("displayId").eq(display_id),
            ScanIndexForward=False,
            Limit=limit,
        )
        items += page["Items"]
    items.sort(key=lambda v: v.get("createdAt", ""), reverse=True)
    return [operator_view(v) for v in items[:limit]]


def operator_view(visit: dict) -> dict:
    view = visits.public_view(visit)
    view.update({k: visits.plain(visit[k]) for k in OPERATOR_FIELDS if k in visit})
    return view


@app.get("/visits")
def list_visits():
    if not is_operator():
        return forbidden()
    params = app.current_event.query_string_parameters or {}
    try:
        limit = max(1, min(200, int(params.get("limit") or 50)))
    except ValueError:
        raise BadRequest("limit must be a number.") from None
    return {"visits": recent_visits(table("VISITS_TABLE"), display_ids(params.get("displays") or "1-8"), limit)}


@app.post("/displays/<display_id>/refresh")
def refresh_display(display_id: str):
    if not is_operator():
        return forbidden()
    if not display_id.isdigit():
        raise BadRequest("A display id is a number.")
    logger.append_keys(displayId=display_id)
    item = table("DISPLAYS_TABLE").get_item(Key={"displayId": display_id}).get("Item") or {}
    tile = {k: visits.plain(item[k]) for k in DISPLAY_FIELDS if item.get(k) is not None}
    tile.update(displayId=display_id, status=tile.get("status") or "DEFAULT")
    if tile["status"] == "DONE" and tile.get("visitId"):
        tile["imageUrl"] = display.image_url(client("s3"), setting("PHOTO_BUCKET"), keys.result_key(tile["visitId"]))
    return {"display": display.publish(credentials(), region(), setting("GRAPHQL_URL"), tile)}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
