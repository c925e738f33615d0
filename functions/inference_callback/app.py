"""Success and error notifications of the async endpoints (SNS) resume the waiting task."""

import json

from gallery import inference
from gallery.runtime import client, logger, setting, table, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    results = []
    for record in event.get("Records", []):
        message = json.loads(record["Sns"]["Message"])
        result = inference.callback(
            client("s3"),
            client("stepfunctions"),
            table("TOKENS_TABLE"),
            table("VISITS_TABLE"),
            setting("PHOTO_BUCKET"),
            message,
        )
        logger.info("inference notification", extra=result)
        results.append(result)
    return {"results": results}
