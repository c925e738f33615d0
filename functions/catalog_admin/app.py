"""Operators only: the catalog review page's API.

GET /admin/catalog?theme=T lists every item of a theme with presigned URLs of its portrait
(`imageUrl`) and its story's audio (`audioKoUrl`, `audioEnUrl`, when it has them), and the counts
of every theme. POST /admin/catalog/decisions with {"theme", "portraitIds": [...], "decision":
"APPROVED" | "REJECTED", "reason"} decides them; the reviewer is the signed-in operator (the ID
token's claims, never the body). The work is gallery.catalog_review's, as for the operators' CLI.

The Cognito authorizer admits every user of the pool, tablets included; the resolver admits only
the "operators" group (403 otherwise)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext

from gallery import THEMES, api, catalog_items, catalog_review, display, visits
from gallery.contracts import CatalogDecisionRequest, CatalogListResponse
from gallery.runtime import client, logger, setting, table, tracer

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

app = api.resolver(operators_only=True)


def _with_urls(s3: S3Client, bucket: str, item: dict) -> dict:
    view = visits.plain(item)
    # Signing is local (no S3 call); the role's s3:GetObject on catalog/* is what makes them work.
    if view.get("key"):
        view["imageUrl"] = display.image_url(s3, bucket, view["key"])
    for language in catalog_items.LANGUAGES:
        audio = catalog_items.audio(view, language)
        if audio:
            view[f"audio{language.capitalize()}Url"] = display.image_url(s3, bucket, audio)
    return view


@app.get("/admin/catalog")
def list_catalog() -> CatalogListResponse:
    params = app.current_event.query_string_parameters or {}
    theme = catalog_review.theme_of(params.get("theme"))
    catalog = table("CATALOG_TABLE")
    s3, bucket = client("s3"), setting("PHOTO_BUCKET")
    found = catalog_review.items(catalog, theme)
    return {
        "theme": theme,
        "items": [_with_urls(s3, bucket, i) for i in found],
        "counts": visits.plain(catalog_review.counts(catalog, THEMES)),
    }


@app.post("/admin/catalog/decisions")
def decide() -> Response:
    # json_object checked the type of each field the body has; decide checks their values.
    body = cast(
        CatalogDecisionRequest,
        api.json_object(app.current_event, theme=str, portraitIds=list, decision=str, reason=str),
    )
    claims = api.claims(app.current_event)
    by = str(claims.get("cognito:username") or claims.get("sub") or "")
    catalog = table("CATALOG_TABLE")
    result = catalog_review.decide(
        catalog,
        body.get("theme"),
        body.get("portraitIds"),
        body.get("decision"),
        body.get("reason"),
        by,
        visits.now_iso(),
    )
    logger.info(
        "catalog decision",
        extra={"decision": body["decision"], "decided": len(result["decided"]), "refused": len(result["refused"])},
    )
    answer = visits.plain(result) | {"counts": visits.plain(catalog_review.counts(catalog, THEMES))}
    if not result["refused"]:
        return Response(200, content_types.APPLICATION_JSON, answer)
    # Some were not decided (unknown, or FILTERED/FAILED): 409 with a sentence, and what was done.
    message = " ".join(r["message"] for r in result["refused"][:5])
    return Response(409, content_types.APPLICATION_JSON, {"error": "NotDecided", "message": message, **answer})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
