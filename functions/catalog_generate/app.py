"""CatalogGenerate: one planned catalog item drawn, written and spoken (see
gallery.catalog_generation). ModelBusy is retried by the workflow; a content filter ends the
item FILTERED."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from gallery import catalog_generation
from gallery.contracts import GeneratedItem, GenerateInput
from gallery.runtime import client, logger, setting, table, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: GenerateInput, context: LambdaContext) -> GeneratedItem:
    planned = event["item"]
    logger.append_keys(portraitId=planned["portraitId"])
    result = catalog_generation.generate_item(
        client("bedrock-runtime"),
        client("polly"),
        client("s3"),
        table("CATALOG_TABLE"),
        setting("PHOTO_BUCKET"),
        planned,
        setting("CATALOG_IMAGE_MODEL"),
        setting("CATALOG_TEXT_MODEL"),
    )
    logger.info("catalog item", extra={"status": result["status"]})
    return result
