"""Success and error notifications of the async endpoints (SNS) resume the waiting task."""

import json

from aws_lambda_powertools.utilities.data_classes import SNSEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from gallery import inference
from gallery.contracts import AsyncInferenceNotification, CallbackResults
from gallery.runtime import client, logger, setting, table, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_source(data_class=SNSEvent)
def handler(event: SNSEvent, context: LambdaContext) -> CallbackResults:
    results = []
    for record in event.records:
        message: AsyncInferenceNotification = json.loads(record.sns.message)
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
