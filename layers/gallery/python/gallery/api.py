"""REST conventions shared by the API handlers: JSON bodies, CORS, named errors as 4xx."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types

from gallery.errors import BadRequest, GalleryError, Rejected, VisitNotFound


def resolver() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(cors=CORSConfig(allow_origin="*", max_age=300))

    @app.exception_handler(GalleryError)
    def _named(e: GalleryError) -> Response:
        status = 404 if isinstance(e, VisitNotFound) else 400 if isinstance(e, (BadRequest, Rejected)) else 409
        return Response(
            status_code=status,
            content_type=content_types.APPLICATION_JSON,
            body={"error": type(e).__name__, "message": e.message},
        )

    return app
