"""Every few minutes (the schedule in template.yaml): end the visits that nothing else ended.
Stuck PROCESSING visits become FAILED, their executions are stopped, their displays show the
failure and Slack gets one post per sweep; abandoned WAITING_FOR_PHOTO visits become FAILED
quietly (gallery/sweeper.py says why)."""

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from gallery import display, slack, sweeper
from gallery.contracts import SweepResult
from gallery.runtime import client, credentials, logger, metrics, region, setting, table, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> SweepResult:
    # A "Scheduled Event" (its detail is contracts.ScheduledEventDetail, empty): the sweep runs as of its time.
    result = sweeper.sweep(table("VISITS_TABLE"), client("stepfunctions"), sweeper.as_of(event.get("time")))
    metrics.add_metric(name="VisitsFailed", unit=MetricUnit.Count, value=len(result["stuck"]))
    metrics.add_metric(name="VisitsAbandoned", unit=MetricUnit.Count, value=len(result["abandoned"]))
    unpublished = []
    for ended in result["stuck"]:
        logger.warning(
            "stuck visit failed",
            extra={"visitId": ended["visit"]["visitId"], "execution": ended["stopped"]},
        )
        try:
            # A FAILED tile has no image, so nothing is signed (no S3 client or bucket).
            display.publish(credentials(), region(), setting("GRAPHQL_URL"), display.tile(None, "", ended))
        except display.PublishFailed:
            # The visit is final either way (the tablet shows it); the wall keeps its last tile
            # until the display's next visit.
            logger.exception("could not publish the failed tile", extra={"visitId": ended["visit"]["visitId"]})
            unpublished.append(ended["visit"]["visitId"])
    for ended in result["abandoned"]:
        logger.info("abandoned visit closed", extra={"visitId": ended["visit"]["visitId"]})
    message = sweeper.slack_message(result)
    if message:
        # Raised, not swallowed: the invocation counts as an error (alarmed), and the visits
        # are FAILED already, so a retry finds nothing to post twice.
        webhook = parameters.get_secret(setting("SLACK_WEBHOOK_SECRET_ARN"), max_age=300)
        slack.post(webhook, message)
    return {
        "stuck": [o["visit"]["visitId"] for o in result["stuck"]],
        "abandoned": [o["visit"]["visitId"] for o in result["abandoned"]],
        "unpublished": unpublished,
    }
