"""Post each CloudWatch alarm on the operators' topic (OperatorAlarmTopic) to their Slack."""

from aws_lambda_powertools.utilities import parameters

from gallery import alarms, slack
from gallery.runtime import logger, setting, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    webhook = parameters.get_secret(setting("SLACK_WEBHOOK_SECRET_ARN"), max_age=300)
    posted = 0
    for record in event.get("Records") or []:
        sns = record.get("Sns") or {}
        # A Slack failure raises: Lambda retries the SNS delivery twice.
        slack.post(webhook, alarms.message(sns.get("Message") or "", sns.get("Subject")))
        posted += 1
    logger.info("alarms posted", extra={"count": posted})
    return {"posted": posted}
