"""`gallery event warmup|status`: the endpoints' capacity before and during an event.

The same code runs against a deployed stack (`--stack NAME`: its CloudFormation Outputs, the
operator's own credentials) and against the local stack (started for the command, with cold
endpoints as on AWS after a quiet spell).

- `warmup` raises both scalable targets' minimum now (RegisterScalableTarget), waits until both
  endpoints are InService with an instance, then runs a canary visit end to end with a bundled
  photo, as a tablet does, and prints its stage times.
- `status` prints the instances and backlog per endpoint, the visits of the last hour by final
  state, their end-to-end p50 and p95, the executions running and the last canary.

On AWS the canary signs in as a tablet user: GALLERY_CANARY_USER (default tablet-1) and
GALLERY_CANARY_PASSWORD name one of the pool's tablet users. The last canary is kept in the
data folder (canary-STACK.json), so `status` on the same machine shows it."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3

from gallery import paging
from gallery.visits import DONE, FINAL
from gallery_local.tablet import Tablet

PHOTO = Path(__file__).resolve().parent / "demo" / "photos" / "visitor-a.jpg"
DATA_DIR = Path(os.environ.get("GALLERY_DATA_DIR") or Path(__file__).resolve().parents[2] / ".gallery-data")
LOCAL_COLD_SECONDS = 20.0  # the local stand-in for AWS's "few minutes"


@dataclass
class _Api:
    url: str


@dataclass
class _CognitoTablets:
    """What Tablet needs of a deployed stack: its API and a tablet user's IdToken."""

    api: _Api
    client_id: str
    idp: Any

    def tablet_token(self, display_id: int | str) -> str:
        user = os.environ.get("GALLERY_CANARY_USER") or f"tablet-{display_id}"
        password = os.environ.get("GALLERY_CANARY_PASSWORD")
        if not password:
            raise SystemExit("The canary signs in as a tablet: set GALLERY_CANARY_USER and GALLERY_CANARY_PASSWORD.")
        auth = self.idp.initiate_auth(
            ClientId=self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": user, "PASSWORD": password},
        )
        return auth["AuthenticationResult"]["IdToken"]


@dataclass
class Target:
    name: str
    endpoints: dict[str, str]  # role (swap, restore) -> endpoint name
    sagemaker: Any
    autoscaling: Any
    sfn: Any
    visits: Any
    state_machine_arn: str
    tablets: Any  # what Tablet signs in with: .api.url and .tablet_token()
    event_hours: str
    cloudwatch: Any = None
    local: Any = None  # the LocalStack, when local
    poll_seconds: float = 5.0

    def backlog(self, endpoint: str) -> int | None:
        if self.local is not None:
            return self.local.endpoints.backlog(endpoint)
        now = datetime.now(timezone.utc)
        points = self.cloudwatch.get_metric_statistics(
            Namespace="AWS/SageMaker",
            MetricName="ApproximateBacklogSize",
            Dimensions=[{"Name": "EndpointName", "Value": endpoint}],
            StartTime=now - timedelta(minutes=5),
            EndTime=now,
            Period=60,
            Statistics=["Maximum"],
        )["Datapoints"]
        return int(max(points, key=lambda p: p["Timestamp"])["Maximum"]) if points else None


def _resource_id(endpoint: str) -> str:
    return f"endpoint/{endpoint}/variant/AllTraffic"


@contextlib.contextmanager
def target(stack: str | None, cold_seconds: float = LOCAL_COLD_SECONDS) -> Iterator[Target]:
    """A deployed stack's Outputs, or a local stack started with cold endpoints."""
    if stack:
        session = boto3.session.Session()
        outputs = {
            o["OutputKey"]: o["OutputValue"]
            for o in session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
        }
        yield Target(
            name=stack,
            endpoints={"swap": outputs["SwapEndpointName"], "restore": outputs["RestoreEndpointName"]},
            sagemaker=session.client("sagemaker"),
            autoscaling=session.client("application-autoscaling"),
            sfn=session.client("stepfunctions"),
            visits=session.resource("dynamodb").Table(outputs["VisitsTableName"]),
            state_machine_arn=outputs["StateMachineArn"],
            tablets=_CognitoTablets(
                _Api(outputs["ApiUrl"]), outputs["UserPoolClientId"], session.client("cognito-idp")
            ),
            event_hours=outputs.get("EventHours", "?"),
            cloudwatch=session.client("cloudwatch"),
        )
        return
    from gallery_local import catalog_store, demo
    from gallery_local.stack import LocalStack, Settings

    print(f"Starting the local stack (endpoints cold for {cold_seconds:g} s)...", file=sys.stderr, flush=True)
    with LocalStack(Settings(data_dir=catalog_store.DATA_DIR, endpoint_cold_seconds=cold_seconds)) as s:
        demo.ensure_catalog(s, {"painting"})
        params = s.template["Parameters"]
        hours = "{} {}-{} {}, {} warm instance(s)".format(
            *(params[p]["Default"] for p in ("EventDays", "EventOpensAt", "EventClosesAt", "EventTimeZone")),
            params["EventWarmInstances"]["Default"],
        )
        yield Target(
            name=s.settings.stack_name,
            endpoints={"swap": s.swap_endpoint, "restore": s.restore_endpoint},
            sagemaker=s.client("sagemaker"),
            autoscaling=s.client("application-autoscaling"),
            sfn=s.client("stepfunctions"),
            visits=s.table("VisitsTable"),
            state_machine_arn=s.state_machine_arn,
            tablets=s,
            event_hours=f"{hours} (template defaults; locally nothing runs on a schedule)",
            local=s,
            poll_seconds=0.5,
        )


# ---------------------------------------------------------------------------- warmup
def endpoint_state(t: Target, endpoint: str) -> tuple[str, int]:
    d = t.sagemaker.describe_endpoint(EndpointName=endpoint)
    count = sum(int(v.get("CurrentInstanceCount") or 0) for v in d.get("ProductionVariants") or [])
    return d["EndpointStatus"], count


def raise_minimum(t: Target, instances: int) -> None:
    """RegisterScalableTarget with a higher minimum; the maximum stays as deployed."""
    for endpoint in t.endpoints.values():
        (current,) = t.autoscaling.describe_scalable_targets(
            ServiceNamespace="sagemaker", ResourceIds=[_resource_id(endpoint)]
        )["ScalableTargets"]
        t.autoscaling.register_scalable_target(
            ServiceNamespace="sagemaker",
            ResourceId=_resource_id(endpoint),
            ScalableDimension="sagemaker:variant:DesiredInstanceCount",
            MinCapacity=min(instances, current["MaxCapacity"]),
            MaxCapacity=current["MaxCapacity"],
        )


def wait_in_service(t: Target, timeout: float, out: Any = sys.stderr) -> float:
    started = time.time()
    while True:
        states = {role: endpoint_state(t, name) for role, name in t.endpoints.items()}
        line = "  ".join(f"{role}: {s} {n} instance(s)" for role, (s, n) in states.items())
        print(f"\r[{time.time() - started:5.0f} s] {line}   ", end="", file=out, flush=True)
        if all(s == "InService" and n > 0 for s, n in states.values()):
            print(file=out)
            return time.time() - started
        if time.time() - started > timeout:
            print(file=out)
            raise SystemExit(f"The endpoints were not in service with an instance after {timeout:g} s.")
        time.sleep(t.poll_seconds)


def canary(t: Target, display: int, theme: str = "painting", timeout: float = 900) -> dict:
    tablet = Tablet(t.tablets, display)
    visit = tablet.visit(PHOTO.read_bytes(), theme, timeout=timeout)
    return {
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "stack": t.name,
        "visitId": visit.visit_id,
        "display": visit.display_id,
        "status": visit.status,
        "seconds": round(visit.seconds, 2),
        "timings": visit.view.get("timings") or {},
        "reason": visit.view.get("reason") or visit.view.get("error"),
    }


def _canary_file(name: str) -> Path:
    return DATA_DIR / f"canary-{name}.json"


def warmup(args: argparse.Namespace) -> int:
    with target(args.stack, args.cold_seconds) as t:
        print(f"Raising both endpoints' minimum to {args.instances} instance(s)...", file=sys.stderr)
        raise_minimum(t, args.instances)
        waited = wait_in_service(t, args.timeout)
        print(f"Both endpoints in service after {waited:.0f} s. Canary visit on display {args.display}...")
        result = canary(t, args.display)
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        _canary_file(t.name).write_text(json.dumps(result, default=str))
        print(_canary_line(result))
        if t.local is not None:
            # Locally the stack ends with this command: show what status would.
            print()
            print(status_text(t))
        return 0 if result["status"] == DONE else 1


def _canary_line(c: dict | None) -> str:
    if not c:
        return "last canary: none"
    stages = ", ".join(f"{k} {v}" for k, v in c.get("timings", {}).items())
    return f"last canary: {c['at']} {c['status']} in {c['seconds']} s ({stages or 'no stage times'})"


# ---------------------------------------------------------------------------- status
def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _seconds(visit: dict) -> float | None:
    try:
        start = datetime.fromisoformat(str(visit["createdAt"]).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(visit["finishedAt"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
    return (end - start).total_seconds()


def recent_visits(t: Target, hours: float = 1) -> list[dict]:
    # A Scan: an operator's occasional look at a table that TTL keeps to days of one event.
    since = (datetime.now(timezone.utc) - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S")
    return list(
        paging.items(
            t.visits.scan,
            FilterExpression="createdAt >= :since",
            ExpressionAttributeValues={":since": since},
            ProjectionExpression="visitId, #s, createdAt, finishedAt",
            ExpressionAttributeNames={"#s": "status"},
        )
    )


def status_text(t: Target) -> str:
    lines = [f"stack: {t.name}   event hours: {t.event_hours}"]
    for role, endpoint in t.endpoints.items():
        state, count = endpoint_state(t, endpoint)
        backlog = t.backlog(endpoint)
        lines.append(
            f"{role:8} {endpoint}: {state}, {count} instance(s), backlog {'?' if backlog is None else backlog}"
        )
    visits = recent_visits(t)
    by_state: dict[str, int] = {}
    for v in visits:
        by_state[v["status"]] = by_state.get(v["status"], 0) + 1
    lines.append("visits, last hour: " + (", ".join(f"{k} {n}" for k, n in sorted(by_state.items())) or "none"))
    ends = [s for v in visits if v["status"] in FINAL and (s := _seconds(v)) is not None]
    p50, p95 = percentile(ends, 50), percentile(ends, 95)
    lines.append(
        "end to end (created to final): "
        + (f"p50 {p50:.1f} s, p95 {p95:.1f} s over {len(ends)}" if ends else "no finished visit")
    )
    running = t.sfn.list_executions(stateMachineArn=t.state_machine_arn, statusFilter="RUNNING", maxResults=1000)
    lines.append(f"executions running: {len(running['executions'])}")
    path = _canary_file(t.name)
    lines.append(_canary_line(json.loads(path.read_text()) if path.exists() else None))
    return "\n".join(lines)


def status(args: argparse.Namespace) -> int:
    with target(args.stack, args.cold_seconds) as t:
        while True:
            text = status_text(t)
            if not args.watch:
                print(text)
                return 0
            print("\033[2J\033[H" + text, flush=True)
            time.sleep(args.every)


def add_parser(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser("event", help="warm capacity and the event's health (local stack or --stack)")
    esub = e.add_subparsers(dest="event_command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--stack", help="a deployed stack's name (default: the local stack)")
        p.add_argument(
            "--cold-seconds",
            type=float,
            default=LOCAL_COLD_SECONDS,
            help=f"local stack only: how long its endpoints take to get an instance (default {LOCAL_COLD_SECONDS:g})",
        )

    w = esub.add_parser("warmup", help="raise the minimum now, wait for instances, run a canary visit")
    common(w)
    w.add_argument("--instances", type=int, default=1, help="minimum instances per endpoint (default 1)")
    w.add_argument("--display", type=int, default=1, help="the canary's display (default 1)")
    w.add_argument("--timeout", type=float, default=1200, help="seconds to wait for instances (default 1200)")
    w.set_defaults(func=warmup)

    s = esub.add_parser("status", help="instances, backlog, last hour's visits, executions, last canary")
    common(s)
    s.add_argument("--watch", action="store_true", help="print again every --every seconds until Ctrl-C")
    s.add_argument("--every", type=float, default=5.0)
    s.set_defaults(func=status)
