"""GET /displays: what every display shows now (the wall polls this besides its subscription)."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from gallery import api, display
from gallery.runtime import client, logger, setting, table, tracer

app = api.resolver()


@app.get("/displays")
def read() -> dict:
    return {"displays": display.current(client("s3"), table("DISPLAYS_TABLE"), setting("PHOTO_BUCKET"))}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
