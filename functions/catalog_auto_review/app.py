"""CatalogAutoReview: the automatic review of one generated portrait (PENDING_REVIEW or REJECTED
with the reason)."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from gallery import catalog_generation
from gallery.contracts import AutoReviewInput, ReviewedItem
from gallery.runtime import client, logger, setting, table, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: AutoReviewInput, context: LambdaContext) -> ReviewedItem:
    logger.append_keys(portraitId=event["portraitId"])
    return catalog_generation.review_item(
        client("rekognition"),
        client("s3"),
        table("CATALOG_TABLE"),
        setting("PHOTO_BUCKET"),
        event["theme"],
        event["portraitId"],
    )
