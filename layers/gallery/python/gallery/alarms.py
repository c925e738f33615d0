"""CloudWatch alarm notifications (from the operators' SNS topic) as Slack posts.

The SNS message is the JSON CloudWatch documents for alarm actions: AlarmName,
AlarmDescription, NewStateValue, OldStateValue, NewStateReason, StateChangeTime, AlarmArn and
Trigger. The post says which alarm changed, to what, why, and what to do (the description),
with a link to the alarm in the console. It leaves out the account id and never holds the
webhook: only the host of the URL it is posted to ever appears in an error (gallery.slack)."""

from __future__ import annotations

import json
from urllib.parse import quote

from gallery.contracts import SlackPayload

STATE_ICON = {"ALARM": ":rotating_light:", "OK": ":white_check_mark:", "INSUFFICIENT_DATA": ":grey_question:"}
# A Slack message stays readable; CloudWatch's reason can list many datapoints.
MAX_REASON = 500


def _region(alarm_arn: str) -> str | None:
    parts = alarm_arn.split(":")
    return parts[3] if len(parts) > 6 and parts[2] == "cloudwatch" else None


def console_url(alarm_name: str, alarm_arn: str) -> str | None:
    region = _region(alarm_arn)
    if not region:
        return None
    name = quote(alarm_name, safe="")
    return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#alarmsV2:alarm/{name}"


def _metric(trigger: dict) -> str | None:
    if trigger.get("MetricName"):
        dims = ", ".join(f"{d.get('name')}={d.get('value')}" for d in trigger.get("Dimensions") or [])
        return f"{trigger.get('Namespace')}/{trigger['MetricName']}" + (f" ({dims})" if dims else "")
    # A metric-math alarm names its expression instead of one metric.
    expressions = [m.get("Expression") for m in trigger.get("Metrics") or [] if m.get("Expression")]
    return expressions[0] if expressions else None


def message(sns_message: str, subject: str | None = None) -> SlackPayload:
    """The Slack payload for one SNS message on the alarm topic. Anything that is not a
    CloudWatch alarm notification is posted as its subject and first characters, so a test
    publish or a new kind of notification is seen, not dropped."""
    try:
        alarm = json.loads(sns_message)
    except ValueError:
        alarm = None
    if not isinstance(alarm, dict) or "AlarmName" not in alarm:
        text = f":information_source: {subject or 'Operator topic'}: {sns_message[:MAX_REASON]}"
        return {"text": text}
    state = str(alarm.get("NewStateValue") or "?")
    head = f"{STATE_ICON.get(state, '')} *{alarm['AlarmName']}* is *{state}* (was {alarm.get('OldStateValue', '?')})"
    lines = [head.strip()]
    if alarm.get("AlarmDescription"):
        lines.append(str(alarm["AlarmDescription"]))
    metric = _metric(alarm.get("Trigger") or {})
    if metric:
        lines.append(f"metric: {metric}")
    if alarm.get("NewStateReason"):
        lines.append(f"why: {str(alarm['NewStateReason'])[:MAX_REASON]}")
    if alarm.get("StateChangeTime"):
        lines.append(f"at: {alarm['StateChangeTime']}")
    url = console_url(str(alarm["AlarmName"]), str(alarm.get("AlarmArn") or ""))
    if url:
        lines.append(url)
    return {"text": "\n".join(lines)}
