"""CatalogCheckModels: the catalog's image and text models are ACTIVE here, before anything is
spent; a LEGACY or unavailable one fails the generation with ModelUnavailable, naming the
active alternatives."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from gallery import catalog_generation
from gallery.contracts import CatalogModels, CheckModelsInput
from gallery.runtime import client, logger, setting, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: CheckModelsInput, context: LambdaContext) -> CatalogModels:
    return catalog_generation.check_models(
        client("bedrock"), setting("CATALOG_IMAGE_MODEL"), setting("CATALOG_TEXT_MODEL")
    )
