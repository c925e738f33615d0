"""A pipeline execution ended FAILED, TIMED_OUT or ABORTED (EventBridge "Step Functions
Execution Status Change"): its visit becomes FAILED if nothing recorded an outcome, and the
operators are told. This is the backstop for what the state machine cannot catch itself
(States.Runtime, the execution's own timeout, a stop, a failing MarkFailed)."""

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from gallery import event_metrics, outcome, slack, visits
from gallery.contracts import ExecutionEndedResult
from gallery.runtime import logger, metrics, setting, table, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> ExecutionEndedResult:
    # contracts.ExecutionStatusChangeDetail; execution_ended reads it as loosely as it must.
    detail = event.get("detail") or {}
    ended = outcome.execution_ended(table("VISITS_TABLE"), detail)
    if ended is None:
        logger.info("execution ended; its visit needs nothing", extra={"status": detail.get("status")})
        return {"recorded": False}
    logger.set_correlation_id(ended["visit"]["visitId"])
    logger.info("visit failed when its execution ended", extra={"status": detail.get("status")})
    # The pipeline never recorded this failure (or only its last-resort write did), so nothing
    # counted it yet. A retry after a Slack outage counts it again; the alarm's "> 0" is the same.
    event_metrics.visit_ended(metrics, visits.FAILED)
    try:
        webhook = parameters.get_secret(setting("SLACK_WEBHOOK_SECRET_ARN"), max_age=300)
        slack.post(webhook, slack.message(ended))
    except Exception:
        # EventBridge retries the event; the visit keeps the alert for that retry.
        outcome.keep_alert_pending(table("VISITS_TABLE"), ended["visit"]["visitId"])
        raise
    return {"recorded": True, "visitId": ended["visit"]["visitId"], "reason": ended["reason"]}
