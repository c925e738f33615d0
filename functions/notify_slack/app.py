"""Post the visit's outcome to the operators' Slack channel."""

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext

from gallery import slack
from gallery.contracts import NotifySlackInput, Posted
from gallery.runtime import logger, setting, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: NotifySlackInput, context: LambdaContext) -> Posted:
    logger.set_correlation_id(event["visit"]["visitId"])
    webhook = parameters.get_secret(setting("SLACK_WEBHOOK_SECRET_ARN"), max_age=300)
    slack.post(webhook, slack.message(event))
    return {"posted": True}
