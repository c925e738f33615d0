"""The stuck-visit sweeper: the last backstop for a visit that nothing else brought to a final
state. A scheduled function runs it every few minutes.

Two kinds of open visit are overdue:
- WAITING_FOR_PHOTO past its upload window (the presigned POST's expiry, uploads.UPLOAD_SECONDS)
  plus UPLOAD_MARGIN_SECONDS: the visitor walked away, or the upload never became an event.
  It is *abandoned*: FAILED with reason VisitAbandoned, but nobody is alarmed and the wall is
  not touched (see `sweep`).
- PROCESSING past its execution's own TimeoutSeconds (read from the state machine, never
  restated here) plus PROCESSING_MARGIN_SECONDS: Step Functions has ended that execution by
  then, so the visit is *stuck*: the execution-ended rule did not record it (its event was
  lost, or its write kept failing). It becomes FAILED with reason VisitStuck, its execution is
  stopped (harmless when it has ended), its display shows the failure and Slack hears of it.

The open visits are found through the byStatus index (status, createdAt): one Query per open
status, bounded by createdAt, reads only visits still open and old enough, never the table.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from gallery import paging, slack, uploads, visits
from gallery.contracts import SlackPayload, Swept, SweptOutcome

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_stepfunctions import SFNClient

STATUS_INDEX = "byStatus"
# A photo may be posted up to the last second of the window, and a full-size one on an event's
# Wi-Fi takes a while; S3 -> EventBridge -> Step Functions -> ClaimVisit adds seconds more.
# Five minutes past the expiry, a claim can no longer be on its way.
UPLOAD_MARGIN_SECONDS = 300
# Step Functions ends an execution at its TimeoutSeconds, and the execution-ended rule then
# records the visit within seconds, with the precise reason (ExecutionTimedOut). The margin
# leaves that rule the first go, so the sweeper only takes what it lost.
PROCESSING_MARGIN_SECONDS = 300

ABANDONED = "VisitAbandoned"
STUCK = "VisitStuck"
MESSAGES = {
    ABANDONED: "The photo never arrived.",
    STUCK: "The pipeline did not finish in time.",
}
# One Slack post lists at most this many visits (a post is limited in size); the rest are counted.
SLACK_LIST_LIMIT = 20


def iso(t: datetime) -> str:
    """The visits table's timestamp format (visits.now_iso)."""
    return t.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def as_of(scheduled: str | None, clock: datetime | None = None) -> datetime:
    """The time a sweep runs as: its scheduled event's `time`, so that a late or retried event
    is no harsher than the one on time, but never later than the clock, so that no invocation
    can end a visit before its deadline."""
    clock = clock or datetime.now(timezone.utc)
    try:
        return min(parse_iso(str(scheduled)), clock) if scheduled else clock
    except ValueError:
        return clock


def state_machine_of(execution_arn: str) -> str:
    """arn:...:execution:NAME:RUN -> arn:...:stateMachine:NAME."""
    head, kind, name, _run = execution_arn.rsplit(":", 3)
    if kind != "execution":
        raise ValueError(f"not an execution ARN: {execution_arn}")
    return f"{head}:stateMachine:{name}"


def execution_timeout(sfn: SFNClient, state_machine_arn: str) -> int:
    """The state machine's own TimeoutSeconds, from its deployed definition: the deadline
    follows whatever the pipeline is deployed with."""
    definition = json.loads(sfn.describe_state_machine(stateMachineArn=state_machine_arn)["definition"])
    if "TimeoutSeconds" not in definition:
        raise RuntimeError(f"{state_machine_arn} has no TimeoutSeconds: no deadline for its visits")
    return int(definition["TimeoutSeconds"])


def _open_visits(visit_table: Table, status: str, created_before: datetime) -> list[dict]:
    return list(
        paging.items(
            visit_table.query,
            IndexName=STATUS_INDEX,
            KeyConditionExpression=Key("status").eq(status) & Key("createdAt").lt(iso(created_before)),
        )
    )


def abandoned(visit_table: Table, now: datetime) -> list[dict]:
    """WAITING_FOR_PHOTO visits whose upload window closed more than the margin ago."""
    cutoff = now - timedelta(seconds=uploads.UPLOAD_SECONDS + UPLOAD_MARGIN_SECONDS)
    return _open_visits(visit_table, visits.WAITING, cutoff)


def stuck(visit_table: Table, sfn: SFNClient, now: datetime) -> list[tuple[dict, int | None]]:
    """PROCESSING visits claimed longer ago than their execution's TimeoutSeconds plus the
    margin, each with that TimeoutSeconds.

    A visit is created before it is claimed, so a Query bounded by the margin alone holds every
    candidate (the visits in flight now, a handful); the exact test is on claimedAt."""
    candidates = _open_visits(visit_table, visits.PROCESSING, now - timedelta(seconds=PROCESSING_MARGIN_SECONDS))
    timeouts: dict[str, int] = {}
    found: list[tuple[dict, int | None]] = []
    for visit in candidates:
        arn = str(visit.get("executionArn") or "")
        since = str(visit.get("claimedAt") or visit.get("createdAt"))
        if not arn:
            # Claimed without an execution cannot happen (claim writes both); past the margin
            # on its creation time it is stuck all the same.
            found.append((visit, None))
            continue
        machine = state_machine_of(arn)
        if machine not in timeouts:
            timeouts[machine] = execution_timeout(sfn, machine)
        if parse_iso(since) + timedelta(seconds=timeouts[machine] + PROCESSING_MARGIN_SECONDS) < now:
            found.append((visit, timeouts[machine]))
    return found


def fail(visit_table: Table, visit: dict, reason: str, cause: str) -> SweptOutcome | None:
    """Mark one visit FAILED the way every other path does (visits.finish: only while still
    WAITING_FOR_PHOTO or PROCESSING, never over a final state or a delete). The outcome that
    the display and Slack are told about, or None when the visit ended meanwhile."""
    fields = {"reason": reason, "message": MESSAGES[reason], "error": reason, "cause": cause[:4000]}
    finished = visits.finish(visit_table, visit["visitId"], visits.FAILED, fields)
    if finished is None:
        return None
    return {
        "recorded": True,
        "status": visits.FAILED,
        "visit": {"visitId": finished["visitId"], "displayId": finished["displayId"], "theme": finished.get("theme")},
        "reason": reason,
        "message": MESSAGES[reason],
        "executionArn": str(finished.get("executionArn") or ""),
    }


def stop_execution(sfn: SFNClient, execution_arn: str, cause: str) -> str:
    """Stop the visit's execution, if any. What happened: stopped, gone, or the error's code
    (the visit is FAILED already; an execution that cannot be stopped still ends at its own
    timeout, and its end finds the visit final and does nothing)."""
    if not execution_arn:
        return "none"
    try:
        sfn.stop_execution(executionArn=execution_arn, error=STUCK, cause=cause[:32768])
    except ClientError as e:
        code = e.response["Error"]["Code"]
        return "gone" if code == "ExecutionDoesNotExist" else code
    return "stopped"


def sweep(visit_table: Table, sfn: SFNClient, now: datetime | None = None) -> Swept:
    """Find and end every overdue visit. Idempotent: a visit ended by an earlier sweep (or by
    anything else) is final and is neither found nor written again.

    Returns {"stuck": [outcome...], "abandoned": [outcome...]}; each stuck outcome also says
    what became of its execution (`stopped`).

    Why an abandoned visit is FAILED and yet quiet: FAILED keeps the set of final states that
    the tablet, the wall, the CLI and the load test's "every visit reaches one final state"
    know, where a new state would have to be taught to each; the reason VisitAbandoned and
    its cause tell it apart. But a visitor who walked away is not a fault: Slack is for what
    an operator must act on, and the wall still shows the previous visitor's portrait, which
    a failure tile for someone no longer there would only replace. So abandoned visits are
    counted (a metric, a log line), not shown or alerted."""
    now = now or datetime.now(timezone.utc)
    result: Swept = {"stuck": [], "abandoned": []}
    for visit in abandoned(visit_table, now):
        cause = (
            f"WAITING_FOR_PHOTO since {visit.get('createdAt')}: the upload window "
            f"({uploads.UPLOAD_SECONDS} s) closed and no photo arrived; ended by the sweeper at {iso(now)}."
        )
        ended = fail(visit_table, visit, ABANDONED, cause)
        if ended:
            result["abandoned"].append(ended)
    for visit, timeout in stuck(visit_table, sfn, now):
        limit = f"its execution's TimeoutSeconds ({timeout} s)" if timeout else "its execution's timeout"
        cause = (
            f"PROCESSING since {visit.get('claimedAt') or visit.get('createdAt')}, past {limit} "
            f"plus {PROCESSING_MARGIN_SECONDS} s; ended by the sweeper at {iso(now)}."
        )
        # FAILED first, then the stop: the stop's ABORTED event then finds the visit final and
        # sends nothing, so the operators hear of it once, in this sweep's post.
        ended = fail(visit_table, visit, STUCK, cause)
        if ended:
            ended["stopped"] = stop_execution(sfn, ended["executionArn"], cause)
            result["stuck"].append(ended)
    return result


def slack_message(result: Swept) -> SlackPayload | None:
    """One post per sweep that failed stuck visits, listing them as the per-visit alerts do; None
    when there were none (abandoned visits alone are not alerted, see `sweep`)."""
    failed = result["stuck"]
    if not failed:
        return None
    head = f"{slack.STATUS_ICON[visits.FAILED]} The sweeper failed {len(failed)} stuck visit(s)"
    if result["abandoned"]:
        head += f" (and closed {len(result['abandoned'])} abandoned)"
    parts = [head + ":"]
    parts += [slack.message(o)["text"] for o in failed[:SLACK_LIST_LIMIT]]
    if len(failed) > SLACK_LIST_LIMIT:
        parts.append(f"... and {len(failed) - SLACK_LIST_LIMIT} more (see the function's log).")
    return {"text": "\n\n".join(parts)}
