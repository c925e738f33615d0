"""REST conventions shared by the API handlers: JSON bodies, path ids, operator routes, CORS,
and named errors as 4xx with a sentence.

Everything a client sends is checked here before any handler touches DynamoDB, so that a
malformed request is a 400 with a sentence and never a 5xx: API Gateway turns a handler that
raises into a 502 that tells the client nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from gallery import catalog_items, operators
from gallery.errors import BadRequest, Forbidden, GalleryError, Rejected, UnknownLanguage, VisitNotFound

# visits.new_visit names a visit with uuid4().hex; nothing else is a visit id.
VISIT_ID = re.compile(r"[0-9a-f]{32}")
# Displays are numbered from 1 as the Displays table's keys ("1", "2", ...): no sign, no
# leading zero (which would name a different item), and no longer than an upload key allows
# (keys.parse_upload_key).
DISPLAY_ID = re.compile(r"[1-9][0-9]{0,2}")

BAD_VISIT_ID = "This is not a visit link. Please scan the code on the display again."
BAD_DISPLAY_ID = "A display is named by its number, such as 3."
NOT_JSON = "The request body is not valid JSON."
NOT_AN_OBJECT = "The request body must be a JSON object."


def _status(e: GalleryError) -> int:
    if isinstance(e, VisitNotFound):
        return 404
    if isinstance(e, Forbidden):
        return 403
    if isinstance(e, (BadRequest, Rejected)):
        return 400
    return 409


def error_response(e: GalleryError) -> Response:
    """The JSON a client reads for a named error: its name and the sentence to show."""
    return Response(
        status_code=_status(e),
        content_type=content_types.APPLICATION_JSON,
        body={"error": type(e).__name__, "message": e.message},
    )


def visit_id(value: object) -> str:
    """A visit id from a path or a body, or BadRequest (400) before anything is looked up."""
    if not isinstance(value, str) or not VISIT_ID.fullmatch(value):
        raise BadRequest(BAD_VISIT_ID)
    return value


def display_id(value: object) -> str:
    """A display id ("1", "12") from a path or a body, or BadRequest (400)."""
    if not isinstance(value, str) or not DISPLAY_ID.fullmatch(value):
        raise BadRequest(BAD_DISPLAY_ID)
    return value


def language(body: Mapping[str, Any]) -> str:
    """The visitor's language from a request body: "ko" or "en", the event's own language when
    the body has no `language` (a tablet from before the choice), or UnknownLanguage (400) for
    anything else, null included. Nothing else is stored, so every later step can trust it."""
    if "language" not in body:
        return catalog_items.DEFAULT_LANGUAGE
    value = body["language"]
    if not isinstance(value, str) or value not in catalog_items.LANGUAGES:
        raise UnknownLanguage()
    return value


# API Gateway path parameter names (template.yaml's {visitId} and {displayId}) and their check.
PATH_IDS: dict[str, Callable[[object], str]] = {"visitId": visit_id, "displayId": display_id}


def path_ids(event: APIGatewayProxyEvent) -> dict[str, str]:
    """Every known id in the event's path parameters, checked; BadRequest for the first bad one."""
    params = event.path_parameters or {}
    return {name: check(params[name]) for name, check in PATH_IDS.items() if name in params}


_JSON_TYPES: dict[type, str] = {str: "text", bool: "true or false", int: "a number", list: "a list", dict: "an object"}


def json_object(event: BaseProxyEvent, **fields: type) -> dict[str, Any]:
    """The request body as a JSON object, or BadRequest with a sentence.

    An empty body is an empty object. `fields` names the type each field must have when it
    is present, e.g. json_object(event, theme=str, consent=bool); bool is not accepted as int."""
    raw = event.body
    if raw is None or raw == "":
        return {}
    try:
        body = json.loads(event.decoded_body or "")  # not None: the body is not
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise BadRequest(NOT_JSON) from None
    if not isinstance(body, dict):
        raise BadRequest(NOT_AN_OBJECT)
    for name, kind in fields.items():
        if name not in body:
            continue
        value = body[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise BadRequest(f"{name} must be {_JSON_TYPES.get(kind, kind.__name__)}.")
    return body


def claims(event: BaseProxyEvent) -> dict[str, Any]:
    """The Cognito authorizer's claims of a REST API event; {} on a route without one."""
    context = event.get("requestContext") or {}
    authorizer = context.get("authorizer") or {}
    found = authorizer.get("claims") if isinstance(authorizer, Mapping) else None
    return dict(found) if isinstance(found, Mapping) else {}


def require_operator(found_claims: Mapping[str, Any]) -> None:
    """Forbidden (403) unless the caller is in the operators group. The Cognito authorizer lets
    in every user of the pool, tablets included, so this is the only check between a tablet's
    token and the operator routes."""
    if not operators.is_operator(dict(found_claims)):
        raise Forbidden()


def resolver(operators_only: bool = False) -> APIGatewayRestResolver:
    """The handlers' resolver. Path ids are checked before any route runs; with
    operators_only, so is the caller's group, so that no route of the function can forget it."""
    app = APIGatewayRestResolver(cors=CORSConfig(allow_origin="*", max_age=300))

    def guard(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
        if operators_only:
            require_operator(claims(app.current_event))
        path_ids(app.current_event)
        return next_middleware(app)

    app.use(middlewares=[guard])

    @app.exception_handler(GalleryError)
    def _named(e: GalleryError) -> Response:
        return error_response(e)

    # A handler that reads current_event.json_body itself still answers 400, not 502.
    @app.exception_handler([json.JSONDecodeError, UnicodeDecodeError])
    def _not_json(_e: ValueError) -> Response:
        return error_response(BadRequest(NOT_JSON))

    return app
