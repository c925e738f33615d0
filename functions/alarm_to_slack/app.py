"""Post each CloudWatch alarm on the operators' topic (OperatorAlarmTopic) to their Slack."""

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.data_classes import SNSEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from gallery import alarms, slack
from gallery.contracts import AlarmsPosted
from gallery.runtime import logger, setting, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_source(data_class=SNSEvent)
def handler(event: SNSEvent, context: LambdaContext) -> AlarmsPosted:
    webhook = parameters.get_secret(setting("SLACK_WEBHOOK_SECRET_ARN"), max_age=300)
    posted = 0
    for record in event.records:
        # The message is CloudWatch's alarm notification (contracts.AlarmNotification), or
        # anything else someone published, which alarms.message posts as it is.
        # A Slack failure raises: Lambda retries the SNS delivery twice.
        slack.post(webhook, alarms.message(record.sns.get("Message") or "", record.sns.get("Subject")))
        posted += 1
    logger.info("alarms posted", extra={"count": posted})
    return {"posted": posted}
