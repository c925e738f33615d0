"""`gallery loadtest`: tablets as code, visitors arriving as a Poisson process at a multiple of
the expected busiest hour (load_profile.json), each kiosk serving one visitor at a time.

At the end: end-to-end and per-stage p50/p95/p99, throughput, final states and lost visits
(an accepted upload that reached no final state, or more than one), and a PNG plot of latency
over time, throughput and backlog. Locally it starts the local stack and talks only to
loopback; with --stack it reads a deployed stack's Outputs.

The pure parts (arrivals, kiosk queues, percentiles, lost-visit accounting) are at the top and
are tested in tests/unit/test_loadtest.py."""

from __future__ import annotations

import json
import math
import mimetypes
import os
import random
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

PROFILE = Path(__file__).resolve().parent / "load_profile.json"
PHOTOS = Path(__file__).resolve().parent / "demo" / "photos"
FINAL = ("DONE", "REJECTED", "FAILED")
# The states of statemachine/pipeline.asl.json that write a final status on the visit item.
FINAL_WRITERS = {
    "SaveResult": "DONE",
    "MarkRejected": "REJECTED",
    "MarkFailed": "FAILED",
    "RecordFailedFallback": "FAILED",
}
STAGES = ("cropMs", "portraitMs", "swapMs", "restoreMs")


# ---------------------------------------------------------------------------- the expected load
@dataclass
class Profile:
    visitors: int
    days: float
    hours_per_day: float
    peak_factor: float
    dwell_before: float
    dwell_after: float
    dwell_jitter: float
    themes: dict[str, float]
    languages: dict[str, float]
    poll_seconds: float = 1.0

    @property
    def mean_per_hour(self) -> float:
        return self.visitors / (self.days * self.hours_per_day)

    @property
    def peak_per_hour(self) -> float:
        return self.mean_per_hour * self.peak_factor

    def rate_per_second(self, multiplier: float) -> float:
        return self.peak_per_hour * multiplier / 3600


def load_profile(path: Path = PROFILE) -> Profile:
    d = json.loads(Path(path).read_text())
    return Profile(
        visitors=int(d["visitors"]),
        days=float(d["days"]),
        hours_per_day=float(d["hoursPerDay"]),
        peak_factor=float(d["peakFactor"]),
        dwell_before=float(d["dwell"]["beforeUploadSeconds"]),
        dwell_after=float(d["dwell"]["afterResultSeconds"]),
        dwell_jitter=float(d["dwell"]["jitter"]),
        themes=dict(d["mix"]["themes"]),
        languages=dict(d["mix"]["languages"]),
        poll_seconds=float(d.get("tabletPollSeconds", 1.0)),
    )


# ---------------------------------------------------------------------------- arrivals
def poisson_arrivals(rate_per_s: float, duration_s: float, max_count: int, seed: int) -> list[float]:
    """Arrival times (seconds from the start) of a Poisson process: exponential gaps with mean
    1/rate, drawn from a generator seeded with `seed`, within [0, duration_s), at most max_count."""
    if rate_per_s <= 0 or duration_s <= 0 or max_count <= 0:
        return []
    rng, t = random.Random(seed), 0.0
    out: list[float] = []
    while len(out) < max_count:
        t += rng.expovariate(rate_per_s)
        if t >= duration_s:
            break
        out.append(t)
    return out


@dataclass
class Visitor:
    n: int
    arrival: float  # seconds from the start
    photo: str
    theme: str
    language: str
    dwell_before: float
    dwell_after: float


def _pick(rng: random.Random, shares: dict[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def visitors(
    arrivals: list[float], profile: Profile, photos: list[str], seed: int, dwell_scale: float = 1.0
) -> list[Visitor]:
    """Who arrives: a photo, theme and language per visitor, and their dwell at the kiosk."""
    rng = random.Random(seed + 1)

    def dwell(base: float) -> float:
        return max(0.0, base * dwell_scale * rng.uniform(1 - profile.dwell_jitter, 1 + profile.dwell_jitter))

    return [
        Visitor(
            i,
            t,
            rng.choice(photos),
            _pick(rng, profile.themes),
            _pick(rng, profile.languages),
            dwell(profile.dwell_before),
            dwell(profile.dwell_after),
        )
        for i, t in enumerate(arrivals)
    ]


# ---------------------------------------------------------------------------- kiosk queues
class KioskQueues:
    """One line per kiosk. A visitor joins the shortest line (waiting plus the one being served;
    ties go to the lowest kiosk number); a kiosk serves its line in order, one at a time."""

    def __init__(self, kiosks: int) -> None:
        self.lines: list[list[Any]] = [[] for _ in range(kiosks)]
        self.serving: list[Any] = [None] * kiosks
        self.closed = False
        self._cv = threading.Condition()

    def length(self, kiosk: int) -> int:
        return len(self.lines[kiosk]) + (self.serving[kiosk] is not None)

    def arrive(self, visitor: Any) -> int:
        with self._cv:
            kiosk = min(range(len(self.lines)), key=lambda k: (self.length(k), k))
            self.lines[kiosk].append(visitor)
            self._cv.notify_all()
            return kiosk

    def take(self, kiosk: int, timeout: float | None = None) -> Any | None:
        """The next visitor of this kiosk's line (who is then being served), or None when the
        queues are closed and the line is empty, or after `timeout` seconds with nobody."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cv:
            while not self.lines[kiosk]:
                if self.closed:
                    return None
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._cv.wait(left)
            visitor = self.lines[kiosk].pop(0)
            self.serving[kiosk] = visitor
            return visitor

    def done(self, kiosk: int) -> None:
        with self._cv:
            self.serving[kiosk] = None
            self._cv.notify_all()

    def close(self, drop_waiting: bool = False) -> list[Any]:
        """No more arrivals. With drop_waiting, those still in line leave (returned)."""
        with self._cv:
            self.closed = True
            left: list[Any] = []
            if drop_waiting:
                for line in self.lines:
                    left += line
                    line.clear()
            self._cv.notify_all()
            return left

    def waiting(self) -> int:
        with self._cv:
            return sum(len(line) for line in self.lines)


# ---------------------------------------------------------------------------- statistics
def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100), linear between closest ranks (numpy's default); None if empty."""
    if not values:
        return None
    v = sorted(values)
    pos = (len(v) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def summary(values: list[float]) -> dict:
    return {"n": len(values), **{f"p{q}": percentile(values, q) for q in (50, 95, 99)}}


def per_minute(times: list[float], minutes: int) -> list[int]:
    """How many of the times (seconds from the start) fall in each minute 0..minutes-1."""
    counts = [0] * max(minutes, 0)
    for t in times:
        m = int(t // 60)
        if 0 <= m < len(counts):
            counts[m] += 1
    return counts


def backlog(intervals: list[tuple[float, float | None]], end: float, step: float = 1.0) -> list[tuple[float, int]]:
    """(t, how many intervals [start, stop) contain t) every `step` seconds up to `end`; a stop
    of None is open (still in flight at the end)."""
    out, t = [], 0.0
    while t <= end:
        out.append((t, sum(1 for a, b in intervals if a <= t and (b is None or t < b))))
        t += step
    return out


# ---------------------------------------------------------------------------- lost visits
def _recorded(output: Any) -> bool:
    """False only when a MarkRejected/MarkFailed answer says it recorded nothing (the visit was
    already final or gone); a DynamoDB update that exited succeeded."""
    if isinstance(output, dict):
        if output.get("recorded") is False:
            return False
        return all(_recorded(v) for v in output.values() if isinstance(v, dict))
    return True


def finals_from_history(events: list[dict]) -> list[str]:
    """The final statuses an execution wrote on its visit: each final-writing state that exited
    (and, for the record_outcome function, said it recorded)."""
    out = []
    for e in events:
        d = e.get("stateExitedEventDetails")
        if not d or d.get("name") not in FINAL_WRITERS:
            continue
        try:
            output = json.loads(d.get("output") or "{}")
        except ValueError:
            output = {}
        if _recorded(output):
            out.append(FINAL_WRITERS[d["name"]])
    return out


def final_transitions(history_finals: list[str], tablet_status: str | None, item_status: str | None) -> list[str]:
    """Every final state a visit reached: what its executions wrote, then the one the tablet saw
    and the one the item holds at the end when no execution wrote it (the execution-ended
    handler or a sweeper did). Two entries mean the visit ended twice."""
    seq = [s for s in history_finals if s in FINAL]
    for s in (tablet_status, item_status):
        if s in FINAL and s not in seq:
            seq.append(s)
    return seq


def lost_accounting(visits: list[dict]) -> dict:
    """Each visit: {"visitId", "accepted": bool, "finals": [..]}. An accepted upload must reach
    exactly one final state; lost counts those with none and those with more than one."""
    none = [v["visitId"] for v in visits if v.get("accepted") and not v.get("finals")]
    many = [v["visitId"] for v in visits if v.get("accepted") and len(v.get("finals") or []) > 1]
    return {"lost": len(none) + len(many), "noFinalState": none, "moreThanOne": many}


# ---------------------------------------------------------------------------- targets
class LocalTarget:
    """A started LocalStack (the CLI starts one; the smoke test passes the session's)."""

    local = True

    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self.api = stack.api

    def tablet_token(self, display_id: int | str) -> str:
        return self.stack.tablet_token(display_id)

    def sfn(self) -> Any:
        return self.stack.client("stepfunctions")

    @property
    def state_machine_arn(self) -> str:
        return self.stack.state_machine_arn

    def item(self, visit_id: str) -> dict | None:
        from gallery import visits as visit_records

        item = self.stack.table("VisitsTable").get_item(Key={"visitId": visit_id}, ConsistentRead=True).get("Item")
        return visit_records.plain(item) if item else None


class RemoteTarget:
    """A deployed stack, from its CloudFormation Outputs. Needs AWS credentials that may describe
    the stack and, for the lost-visit accounting, list and read the pipeline's executions and
    read the visits table (without them it falls back to what the tablets see); and the tablets'
    Cognito users (tablet-1 ... tablet-N, password in GALLERY_TABLET_PASSWORD)."""

    local = False

    def __init__(self, stack_name: str, user_format: str = "tablet-{n}", password: str | None = None) -> None:
        import boto3

        self.session = boto3.session.Session()
        self.region = self.session.region_name or "us-east-1"
        cfn = self.session.client("cloudformation", region_name=self.region)
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
        self.outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        self.api = type("Api", (), {"url": self.outputs["ApiUrl"].rstrip("/")})()
        self.user_format = user_format
        found = password or os.environ.get("GALLERY_TABLET_PASSWORD")
        if not found:
            raise SystemExit("--stack needs the tablets' password: set GALLERY_TABLET_PASSWORD (see the README).")
        self.password: str = found

    def tablet_token(self, display_id: int | str) -> str:
        idp = self.session.client("cognito-idp", region_name=self.region)
        auth = idp.initiate_auth(
            ClientId=self.outputs["UserPoolClientId"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": self.user_format.format(n=display_id), "PASSWORD": self.password},
        )
        return auth["AuthenticationResult"]["IdToken"]

    def sfn(self) -> Any:
        return self.session.client("stepfunctions", region_name=self.region)

    @property
    def state_machine_arn(self) -> str:
        return self.outputs["StateMachineArn"]

    def item(self, visit_id: str) -> dict | None:
        from gallery import visits as visit_records

        table = self.session.resource("dynamodb", region_name=self.region).Table(self.outputs["VisitsTableName"])
        item = table.get_item(Key={"visitId": visit_id}, ConsistentRead=True).get("Item")
        return visit_records.plain(item) if item else None


def _loopback(url: str) -> bool:
    return (urlparse(url).hostname or "") in ("127.0.0.1", "localhost", "::1")


# ---------------------------------------------------------------------------- the run
@dataclass
class Record:
    n: int
    arrival: float
    kiosk: int
    photo: str
    theme: str
    language: str
    started: float | None = None  # the kiosk began serving this visitor
    uploaded: float | None = None  # the upload started (after the dwell before it)
    upload_ms: float | None = None
    accepted: bool = False
    visit_id: str = ""
    upload_key: str = ""
    tablet_status: str | None = None  # the first final state the tablet saw (or TIMED_OUT)
    seen_final: float | None = None
    error: str = ""
    item_status: str | None = None
    e2e: float | None = None  # finishedAt - createdAt, from the visit item
    timings: dict = field(default_factory=dict)
    finals: list[str] = field(default_factory=list)
    executions: int = 0


def _iso(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


class LoadTest:
    def __init__(
        self,
        target: Any,
        profile: Profile,
        *,
        tablets: int = 8,
        multiplier: float = 1.0,
        minutes: float = 2.0,
        max_visits: int = 1000,
        seed: int = 1,
        dwell_scale: float = 1.0,
        drain_seconds: float = 120.0,
        visit_timeout: float = 150.0,
        progress_every: float = 5.0,
        warmup: int = 1,
        out: Any = sys.stderr,
    ) -> None:
        self.target, self.profile = target, profile
        self.tablets, self.multiplier, self.minutes = tablets, multiplier, minutes
        self.drain_seconds, self.visit_timeout = drain_seconds, visit_timeout
        self.progress_every, self.out = progress_every, out
        self.seed, self.dwell_scale, self.warmup = seed, dwell_scale, warmup
        photos = sorted(p.name for p in PHOTOS.glob("*.jpg"))
        arrivals = poisson_arrivals(profile.rate_per_second(multiplier), minutes * 60, max_visits, seed)
        self.visitors = visitors(arrivals, profile, photos, seed, dwell_scale)
        self.records: list[Record] = []
        self.left_in_line: list[Record] = []
        self.queues = KioskQueues(tablets)
        self._lock = threading.Lock()
        self.t0 = 0.0
        self.epoch0 = 0.0

    def now(self) -> float:
        return time.monotonic() - self.t0

    # ------------------------------------------------------------------ kiosks
    def _kiosk(self, k: int, tablet: Any, stop_at: float) -> None:
        while True:
            rec = self.queues.take(k, timeout=0.5)
            if rec is None:
                if self.queues.closed or self.now() > stop_at:
                    return
                continue
            try:
                self._serve(tablet, rec)
            except Exception as e:  # noqa: BLE001 - a visit's error is its record, not the run's end
                rec.error = rec.error or f"{type(e).__name__}: {e}"[:300]
            finally:
                self.queues.done(k)

    def _serve(self, tablet: Any, rec: Record) -> None:
        rec.started = self.now()
        v = next(x for x in self.visitors if x.n == rec.n)
        time.sleep(v.dwell_before)
        code, created = tablet.start_visit(rec.theme, language=rec.language)
        if code != 201:
            rec.error = f"POST /visits answered {code}: {str(created)[:200]}"
            return
        if self.target.local and not _loopback(created["upload"]["url"]):
            raise RuntimeError(f"refusing a non-loopback upload URL locally: {created['upload']['url']}")
        rec.visit_id, rec.upload_key = created["visitId"], created["upload"]["key"]
        photo = (PHOTOS / rec.photo).read_bytes()
        ctype = mimetypes.guess_type(rec.photo)[0] or "image/jpeg"
        rec.uploaded = self.now()
        resp = tablet.upload(created, photo, ctype)
        rec.upload_ms = (self.now() - rec.uploaded) * 1000
        if resp.status_code >= 300:
            rec.error = f"upload refused ({resp.status_code}): {resp.text[:200]}"
            return
        rec.accepted = True
        from gallery_local.tablet import Visit

        visit = Visit(rec.visit_id, created["displayId"], rec.theme, rec.upload_key)
        visit = tablet.follow(visit, self.visit_timeout, fetch_image=False)
        rec.seen_final = self.now()
        rec.tablet_status = visit.status
        time.sleep(v.dwell_after)

    # ------------------------------------------------------------------ progress
    def counts(self) -> dict:
        with self._lock:
            recs = list(self.records)
        c = Counter(r.tablet_status for r in recs if r.tablet_status)
        in_flight = sum(1 for r in recs if r.accepted and r.tablet_status is None)
        e2e = [
            r.seen_final - r.uploaded
            for r in recs
            if r.seen_final is not None and r.uploaded is not None and r.tablet_status in FINAL
        ]
        return {
            "arrived": len(recs),
            "waiting": self.queues.waiting(),
            "inFlight": in_flight,
            "done": c["DONE"],
            "rejected": c["REJECTED"],
            "failed": c["FAILED"] + c["TIMED_OUT"],
            "errors": sum(1 for r in recs if r.error),
            "p50": percentile(e2e, 50),
        }

    def _progress_line(self) -> str:
        c = self.counts()
        p50 = f"{c['p50']:.2f}s" if c["p50"] is not None else "-"
        return (
            f"[{self.now():6.1f}s] arrived {c['arrived']}  waiting {c['waiting']}  in flight {c['inFlight']}"
            f"  done {c['done']}  rejected {c['rejected']}  failed {c['failed']}  errors {c['errors']}"
            f"  p50 so far {p50} (as the tablets see it)"
        )

    def _progress(self, stop: threading.Event) -> None:
        while not stop.wait(self.progress_every):
            print(self._progress_line(), file=self.out, flush=True)

    # ------------------------------------------------------------------ run
    def run(self) -> dict:
        from gallery_local.tablet import Tablet

        if self.target.local and not _loopback(self.target.api.url):
            raise RuntimeError(f"the local load test sends only to loopback, not {self.target.api.url}")
        tablets = []
        for k in range(self.tablets):
            t = Tablet(self.target, k + 1)
            t.poll_seconds = self.profile.poll_seconds
            tablets.append(t)
        self._warm_up(tablets)
        rate = self.profile.rate_per_second(self.multiplier) * 60
        print(
            f"Load test: {len(self.visitors)} visitors over {self.minutes:g} min (Poisson, {rate:.2f}/min ="
            f" {self.multiplier:g}x the busiest hour of {self.profile.peak_per_hour:.0f}/h), {self.tablets} kiosks,"
            f" dwell x{self.dwell_scale:g}, seed {self.seed}",
            file=self.out,
            flush=True,
        )
        window = self.minutes * 60
        self.t0, self.epoch0 = time.monotonic(), time.time()
        stop_at = window + self.drain_seconds
        kiosks = [
            threading.Thread(target=self._kiosk, args=(k, tablets[k], stop_at), daemon=True)
            for k in range(self.tablets)
        ]
        for th in kiosks:
            th.start()
        stop = threading.Event()
        progress = threading.Thread(target=self._progress, args=(stop,), daemon=True)
        progress.start()
        for v in self.visitors:
            delay = v.arrival - self.now()
            if delay > 0:
                time.sleep(delay)
            rec = Record(v.n, v.arrival, -1, v.photo, v.theme, v.language)
            with self._lock:
                self.records.append(rec)
            rec.kiosk = self.queues.arrive(rec)
        if self.now() < window:
            time.sleep(window - self.now())
        # The doors close: whoever is still in line leaves; visits being served may finish,
        # within the drain time.
        self.closed_at = self.now()
        self.left_in_line = self.queues.close(drop_waiting=True)
        for th in kiosks:
            th.join(max(0.0, stop_at - self.now()))
        stop.set()
        print(self._progress_line(), file=self.out, flush=True)
        self.duration = self.now()
        self._settle()
        return self.report()

    def _warm_up(self, tablets: list) -> None:
        """A freshly started stack imports each handler on its first call and the model server
        loads its models on its first request: `warmup` visits go through first, uncounted, as
        `gallery event warmup`'s canary does before an event opens."""
        for i in range(self.warmup):
            tablet = tablets[i % len(tablets)]
            t = time.monotonic()
            visit = tablet.visit((PHOTOS / "visitor-b.jpg").read_bytes(), "painting", timeout=self.visit_timeout)
            print(
                f"warm-up visit {i + 1}/{self.warmup}: {visit.status} in {time.monotonic() - t:.1f} s (not counted)",
                file=self.out,
                flush=True,
            )

    def _settle(self) -> None:
        """Read each accepted visit's item and its executions' histories."""
        accepted = [r for r in self.records if r.accepted]
        for r in accepted:
            try:
                item = self.target.item(r.visit_id)
            except Exception as e:  # noqa: BLE001 - e.g. no DynamoDB permission on AWS
                item, r.error = None, r.error or f"item unreadable: {type(e).__name__}"
            if item:
                r.item_status = item.get("status")
                r.timings = {k: float(v) for k, v in (item.get("timings") or {}).items()}
                if item.get("createdAt") and item.get("finishedAt"):
                    r.e2e = _iso(item["finishedAt"]) - _iso(item["createdAt"])
        by_key: dict[str, list[str]] = {}
        try:
            sfn = self.target.sfn()
            time.sleep(1.0)  # the last executions' Notify branch may still be running
            arns: list[str] = []
            kwargs: dict = {"stateMachineArn": self.target.state_machine_arn, "maxResults": 1000}
            while True:
                page = sfn.list_executions(**kwargs)
                arns += [e["executionArn"] for e in page["executions"] if e["startDate"].timestamp() >= self.epoch0 - 1]
                if not page.get("nextToken"):
                    break
                kwargs["nextToken"] = page["nextToken"]
            keys = {r.upload_key for r in accepted}
            for arn in arns:
                inp = json.loads(sfn.describe_execution(executionArn=arn).get("input") or "{}")
                key = inp.get("detail", {}).get("object", {}).get("key")
                if key in keys:
                    by_key.setdefault(key, []).append(arn)
            histories = True
        except Exception as e:  # noqa: BLE001 - without states:List/Describe the tablets' view still counts
            print(f"Execution histories unreadable ({type(e).__name__}): counting from the items only.", file=self.out)
            histories = False
        for r in accepted:
            history_finals: list[str] = []
            if histories:
                for arn in by_key.get(r.upload_key, []):
                    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
                    history_finals += finals_from_history(events)
                r.executions = len(by_key.get(r.upload_key, []))
            r.finals = final_transitions(history_finals, r.tablet_status, r.item_status)

    # ------------------------------------------------------------------ report
    def report(self) -> dict:
        recs = self.records
        accepted = [r for r in recs if r.accepted]
        lost = lost_accounting([{"visitId": r.visit_id, "accepted": r.accepted, "finals": r.finals} for r in accepted])
        finals = Counter(r.finals[-1] if r.finals else "NONE" for r in accepted)
        e2e = [r.e2e for r in accepted if r.e2e is not None and r.item_status in FINAL]
        done_e2e = [r.e2e for r in accepted if r.e2e is not None and r.item_status == "DONE"]
        seen = [
            r.seen_final - r.uploaded
            for r in accepted
            if r.seen_final is not None and r.uploaded is not None and r.tablet_status in FINAL
        ]
        stages = {k: summary([r.timings[k] / 1000 for r in accepted if k in r.timings]) for k in STAGES}
        stages["upload"] = summary([r.upload_ms / 1000 for r in accepted if r.upload_ms is not None])
        stages["kioskWait"] = summary([r.started - r.arrival for r in recs if r.started is not None])
        done_times = [r.seen_final for r in accepted if r.seen_final is not None and r.tablet_status in FINAL]
        minutes_run = max(self.duration, 1e-9) / 60
        return {
            "command": None,
            "profile": {
                "visitors": self.profile.visitors,
                "meanPerHour": self.profile.mean_per_hour,
                "peakPerHour": self.profile.peak_per_hour,
                "peakFactor": self.profile.peak_factor,
            },
            "tablets": self.tablets,
            "multiplier": self.multiplier,
            "ratePerMinute": self.profile.rate_per_second(self.multiplier) * 60,
            "minutes": self.minutes,
            "seed": self.seed,
            "dwellScale": self.dwell_scale,
            "durationSeconds": self.duration,
            "closedAt": self.closed_at,
            "warmup": self.warmup,
            "arrived": len(recs),
            "served": sum(1 for r in recs if r.started is not None),
            "leftInLine": len(self.left_in_line),
            "accepted": len(accepted),
            "notAccepted": sum(1 for r in recs if r.started is not None and not r.accepted),
            "errors": [r.error for r in recs if r.error][:20],
            "finalStates": dict(finals),
            "tabletTimedOut": sum(1 for r in accepted if r.tablet_status == "TIMED_OUT"),
            "e2e": summary(e2e),
            "e2eDone": summary(done_e2e),
            "seenByTablet": summary(seen),
            "stages": stages,
            "throughputPerMinute": len(done_times) / minutes_run,
            "finishedPerMinute": per_minute(done_times, math.ceil(self.duration / 60)),
            "arrivedPerMinute": per_minute([r.arrival for r in recs], math.ceil(self.duration / 60)),
            "lost": lost["lost"],
            "lostNoFinalState": lost["noFinalState"],
            "lostMoreThanOne": lost["moreThanOne"],
            "multipleExecutions": sum(1 for r in accepted if r.executions > 1),
            "visits": [asdict(r) for r in recs],
        }


# ---------------------------------------------------------------------------- output
def _s(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def text_report(rep: dict) -> str:
    lines = [
        f"Load test: {rep['tablets']} tablets, {rep['multiplier']:g}x the busiest hour"
        f" ({rep['ratePerMinute']:.2f} arrivals/min), {rep['minutes']:g} min, seed {rep['seed']},"
        f" ran {rep['durationSeconds']:.0f} s",
        f"visitors: arrived {rep['arrived']}, served {rep['served']}, left in line at close {rep['leftInLine']},"
        f" uploads accepted {rep['accepted']}, not accepted {rep['notAccepted']}",
        "final states: " + ", ".join(f"{k} {v}" for k, v in sorted(rep["finalStates"].items())),
        f"throughput: {rep['throughputPerMinute']:.2f} visits/min finished"
        f" (per minute: {' '.join(map(str, rep['finishedPerMinute']))})",
        "",
        f"{'seconds':<34}{'n':>5}{'p50':>8}{'p95':>8}{'p99':>8}",
    ]

    def row(name: str, s: dict) -> str:
        return f"{name:<34}{s['n']:>5}{_s(s['p50']):>8}{_s(s['p95']):>8}{_s(s['p99']):>8}"

    lines.append(row("end to end (createdAt->finishedAt)", rep["e2e"]))
    lines.append(row("  of DONE visits", rep["e2eDone"]))
    lines.append(row("as the tablet saw it (upload->final)", rep["seenByTablet"]))
    names = {
        "upload": "upload (presigned POST)",
        "cropMs": "CropFace",
        "portraitMs": "ChoosePortrait",
        "swapMs": "SwapFace (invoke->callback)",
        "restoreMs": "RestoreFace (invoke->callback)",
        "kioskWait": "waiting in line at a kiosk",
    }
    for k, name in names.items():
        lines.append(row(name, rep["stages"][k]))
    lines.append("")
    if rep["errors"]:
        lines.append("errors: " + "; ".join(rep["errors"][:5]))
    if rep["tabletTimedOut"]:
        lines.append(f"tablets that stopped following before a final state: {rep['tabletTimedOut']}")
    lines.append(
        f"no final state: {len(rep['lostNoFinalState'])}, more than one: {len(rep['lostMoreThanOne'])}"
        f" (uploads with more than one execution: {rep['multipleExecutions']})"
    )
    for vid in (rep["lostNoFinalState"] + rep["lostMoreThanOne"])[:10]:
        lines.append(f"  lost visit {vid}")
    lines.append(f"lost: {rep['lost']}")
    return "\n".join(lines)


def plot(rep: dict, path: Path) -> Path:
    """latency over time, throughput per minute and backlog, in one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    visits = rep["visits"]
    end = rep["durationSeconds"]
    fig, (a1, a2, a3) = plt.subplots(3, 1, figsize=(10, 10), sharex=False)
    colors = {"DONE": "tab:green", "REJECTED": "tab:orange", "FAILED": "tab:red"}
    for status, color in colors.items():
        pts = [(v["arrival"], v["e2e"]) for v in visits if v["e2e"] is not None and v["item_status"] == status]
        if pts:
            a1.scatter([p[0] for p in pts], [p[1] for p in pts], s=18, color=color, label=status)
    waits = [(v["arrival"], v["started"] - v["arrival"]) for v in visits if v["started"] is not None]
    if waits:
        a1.scatter(
            [w[0] for w in waits], [w[1] for w in waits], s=10, marker="x", color="tab:gray", label="wait in line"
        )
    if rep["e2e"]["p50"] is not None:
        a1.axhline(rep["e2e"]["p50"], color="tab:blue", lw=0.8, ls="--", label=f"p50 {rep['e2e']['p50']:.2f} s")
    a1.set_title(
        f"{rep['tablets']} kiosks, {rep['multiplier']:g}x the busiest hour ({rep['ratePerMinute']:.1f}/min),"
        f" lost: {rep['lost']}"
    )
    a1.set_xlabel("arrival (s from start)")
    a1.set_ylabel("end to end (s)")
    a1.set_xlim(0, end)
    a1.legend(fontsize=8, loc="best")

    n = len(rep["finishedPerMinute"])
    xs = list(range(n))
    a2.bar([x - 0.2 for x in xs], rep["arrivedPerMinute"], width=0.4, label="arrived", color="tab:gray")
    a2.bar([x + 0.2 for x in xs], rep["finishedPerMinute"], width=0.4, label="finished", color="tab:blue")
    a2.set_xticks(xs, [f"{x}-{x + 1}" for x in xs])
    a2.set_xlabel("minute")
    a2.set_ylabel("visits per minute")
    a2.legend(fontsize=8)

    in_flight = [(v["uploaded"], v["seen_final"]) for v in visits if v["accepted"]]
    closed = rep.get("closedAt", end)  # who was still in line then left
    in_line = [(v["arrival"], v["started"] if v["started"] is not None else closed) for v in visits]
    b1, b2 = backlog(in_flight, end, 0.5), backlog(in_line, end, 0.5)
    a3.step([t for t, _ in b1], [c for _, c in b1], where="post", label="in flight (uploaded, not final)")
    a3.step([t for t, _ in b2], [c for _, c in b2], where="post", label="waiting in line", color="tab:gray")
    a3.set_xlabel("time (s from start)")
    a3.set_ylabel("visits")
    a3.set_xlim(0, end)
    a3.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write(rep: dict, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    js = out_dir / "loadtest.json"
    js.write_text(json.dumps(rep, indent=1, default=str) + "\n")
    return js, plot(rep, out_dir / "loadtest.png")


def results_markdown(reports: list[dict], command: str) -> str:
    """bench/RESULTS.md's load-test section, from the runs' loadtest.json."""
    import platform

    r0 = reports[0]
    p = r0["profile"]
    head = [
        "## Load test (local stack)",
        "",
        f"Command: `{command}`  ",
        f"Expected load (local/gallery_local/load_profile.json): {p['visitors']} visitors over two days of 8 h"
        f" = {p['meanPerHour']:.1f}/h; busiest hour {p['peakFactor']:g}x the mean = {p['peakPerHour']:.0f}/h.  ",
        f"Poisson arrivals, {r0['tablets']} kiosks (one visitor at a time, dwell 25 s before the upload and"
        " 20 s after the result, +-25%), bundled photos, themes and languages mixed; end to end is the visit"
        " item's finishedAt - createdAt.  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()};"
        f" measured {datetime.now():%Y-%m-%d %H:%M}.",
        "",
        "| figure | " + " | ".join(f"{r['multiplier']:g}x peak ({r['ratePerMinute']:.1f}/min)" for r in reports) + " |",
        "|---|" + "---|" * len(reports),
    ]

    def fig(name: str, f: Any) -> str:
        return f"| {name} | " + " | ".join(f(r) for r in reports) + " |"

    def sec(x: float | None) -> str:
        return "-" if x is None else f"{x:.2f} s"

    rows = [
        fig("minutes, seed", lambda r: f"{r['minutes']:g}, {r['seed']}"),
        fig("arrived / served / left in line", lambda r: f"{r['arrived']} / {r['served']} / {r['leftInLine']}"),
        fig("uploads accepted", lambda r: str(r["accepted"])),
        fig("final states", lambda r: ", ".join(f"{k} {v}" for k, v in sorted(r["finalStates"].items()))),
        fig("throughput (visits/min)", lambda r: f"{r['throughputPerMinute']:.2f}"),
        fig("end to end p50 / p95 / p99", lambda r: " / ".join(sec(r["e2e"][q]) for q in ("p50", "p95", "p99"))),
        fig(
            "as the tablet saw it p50 / p95",
            lambda r: " / ".join(sec(r["seenByTablet"][q]) for q in ("p50", "p95")),
        ),
    ]
    for k, name in (
        ("upload", "upload"),
        ("cropMs", "CropFace"),
        ("portraitMs", "ChoosePortrait"),
        ("swapMs", "SwapFace"),
        ("restoreMs", "RestoreFace"),
        ("kioskWait", "wait in line at a kiosk"),
    ):
        rows.append(
            fig(
                f"{name} p50 / p95 / p99",
                lambda r, k=k: " / ".join(sec(r["stages"][k][q]) for q in ("p50", "p95", "p99")),
            )
        )
    rows.append(fig("**lost**", lambda r: f"**{r['lost']}**"))
    plots = "Plots: " + ", ".join(f"`{r.get('out', '')}/loadtest.png`" for r in reports) + " (not committed)."
    return "\n".join([*head, *rows, "", plots])


def main(args: Any) -> int:
    """The CLI's `gallery loadtest`."""
    profile = load_profile(Path(args.profile) if getattr(args, "profile", None) else PROFILE)
    out_dir = Path(args.out)
    kw = dict(
        tablets=args.tablets,
        multiplier=args.peak_multiplier,
        minutes=args.minutes,
        max_visits=args.max_visits,
        seed=args.seed,
        dwell_scale=args.dwell_scale,
        drain_seconds=args.drain_seconds,
        warmup=args.warmup,
    )
    if args.stack:
        target = RemoteTarget(args.stack, args.tablet_user, None)
        rep = LoadTest(target, profile, **kw).run()
    else:
        from gallery_local import catalog_store
        from gallery_local.demo import ensure_catalog
        from gallery_local.stack import LocalStack, Settings

        print("Starting the local stack...", file=sys.stderr, flush=True)
        with LocalStack(Settings(data_dir=catalog_store.DATA_DIR)) as stack:
            ensure_catalog(stack, set(profile.themes))
            rep = LoadTest(LocalTarget(stack), profile, **kw).run()
    rep["command"] = "gallery " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["loadtest"] else None
    rep["out"] = str(out_dir)
    js, png = write(rep, out_dir)
    print(text_report(rep))
    print(f"\nplot: {png}\nfigures: {js}")
    return 0 if rep["lost"] == 0 else 1


def add_parser(sub: Any) -> None:
    """`gallery loadtest`, registered by cli.py."""
    lt = sub.add_parser(
        "loadtest",
        help="tablets as code: Poisson arrivals at a multiple of the expected peak; latency, throughput, lost visits",
    )
    lt.add_argument("--tablets", type=int, default=8, help="kiosks, one visitor at a time each (default: 8)")
    lt.add_argument(
        "--peak-multiplier", type=float, default=1.0, help="arrival rate as a multiple of the busiest hour (default: 1)"
    )
    lt.add_argument("--minutes", type=float, default=2.0, help="how long visitors arrive (default: 2)")
    lt.add_argument("--max-visits", type=int, default=500, help="at most this many visitors (default: 500)")
    lt.add_argument("--seed", type=int, default=1, help="seed of the arrivals and the visitors' choices (default: 1)")
    lt.add_argument(
        "--dwell-scale", type=float, default=1.0, help="multiplies the kiosk dwell times (0: none; default: 1)"
    )
    lt.add_argument(
        "--drain-seconds", type=float, default=120.0, help="the most to wait for visits in flight after (default: 120)"
    )
    lt.add_argument("--warmup", type=int, default=1, help="uncounted visits sent first, one at a time (default: 1)")
    lt.add_argument("--out", default="out/loadtest", help="where the plot and figures go (default: out/loadtest/)")
    lt.add_argument("--profile", help="another expected-load file (default: load_profile.json)")
    lt.add_argument("--stack", help="a deployed stack's name (AWS credentials and GALLERY_TABLET_PASSWORD needed)")
    lt.add_argument(
        "--tablet-user", default="tablet-{n}", help="with --stack: the tablets' user names (default: tablet-{n})"
    )
    lt.set_defaults(func=lambda args: main(args))


if __name__ == "__main__":
    # python -m gallery_local.loadtest results "COMMAND" DIR...: bench/RESULTS.md's section from runs.
    if len(sys.argv) >= 4 and sys.argv[1] == "results":
        sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
        import results_file

        reps = []
        for d in sys.argv[3:]:
            rep = json.loads((Path(d) / "loadtest.json").read_text())
            rep["out"] = d
            reps.append(rep)
        results_file.write_section("loadtest", results_markdown(reps, sys.argv[2]))
        print(f"wrote the loadtest section of {results_file.RESULTS}")
    else:
        print("usage: python -m gallery_local.loadtest results COMMAND DIR...", file=sys.stderr)
        sys.exit(2)
