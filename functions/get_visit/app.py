"""Reading a visit, three ways:

- GET /visits/{visitId} (Cognito): the tablet follows its own visit; a tablet reads only the
  visits of its own display, operators any.
- GET /visits/{visitId}/owner (Authorization: Owner <secret>): the visitor's private link.
- GET /views/{viewToken}: a phone that scanned the wall's QR code views the portrait while the
  token lasts; the answer holds what the wall shows and no visit id."""

from typing import TypeVar

from aws_lambda_powertools.utilities.typing import LambdaContext

from gallery import api, display, keys, operators, privacy, visits
from gallery.contracts import ViewerView, VisitView
from gallery.errors import Forbidden, VisitNotFound
from gallery.runtime import client, logger, setting, table, tracer

app = api.resolver()

GONE = "This visit has expired or was deleted."
LINK_EXPIRED = "This link has expired. The private link from the tablet still works until the portrait is deleted."
OTHER_DISPLAY = "A tablet can read only the visits of its own display."


View = TypeVar("View", VisitView, ViewerView)


def _with_media(visit: dict, view: View, key: str) -> View:
    """The view with presigned URLs of the portrait (`key`) and of the story's audio, when DONE."""
    if visit.get("status") == visits.DONE:
        view["imageUrl"] = display.image_url(client("s3"), setting("PHOTO_BUCKET"), key)
        audio = visits.audio_url(client("s3"), setting("PHOTO_BUCKET"), visit)
        if audio:
            view["audioUrl"] = audio
    return view


def _visit(visit_id: str) -> dict:
    logger.set_correlation_id(visit_id)
    visit = visits.get_visit(table("VISITS_TABLE"), visit_id)
    if visit is None or visit.get("status") == visits.DELETING:
        raise VisitNotFound(GONE)
    return visit


@app.get("/visits/<visit_id>")
def read_for_tablet(visit_id: str) -> VisitView:
    visit = _visit(visit_id)
    claims = api.claims(app.current_event)
    if not operators.is_operator(claims) and str(claims.get("custom:displayId") or "") != visit["displayId"]:
        raise Forbidden(OTHER_DISPLAY)
    return _with_media(visit, visits.public_view(visit), visit.get("resultKey") or keys.result_key(visit_id))


@app.get("/visits/<visit_id>/owner")
def read_for_owner(visit_id: str) -> VisitView:
    visit = _visit(visit_id)
    secret = privacy.owner_secret(app.current_event.headers.get("Authorization"))
    if not visits.is_owner(visit, secret):
        raise Forbidden(privacy.NOT_OWNER)
    view: VisitView = {**visits.public_view(visit), "owner": True}
    return _with_media(visit, view, visit.get("resultKey") or keys.result_key(visit_id))


@app.get("/views/<view_token>")
def read_for_viewer(view_token: str) -> ViewerView:
    visit = visits.by_view_token(table("VISITS_TABLE"), view_token)
    if visit is None:
        raise VisitNotFound(LINK_EXPIRED)
    return _with_media(visit, visits.viewer_view(visit), keys.wall_image_key(view_token))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
