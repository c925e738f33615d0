"""`gallery dlq list|redrive`: the dead-letter queues, with the same code against the local stack
and, with `--stack NAME`, a deployed one (its `*DeadLetterQueueUrl` Outputs).

Without --stack the command starts a local stack, whose queues live as long as it does: the
command is for a deployed stack, and for a local one through `targets(stack)` (the tests)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3

from gallery import dead_letters

OUTPUT_SUFFIX = "DeadLetterQueueUrl"


@dataclass
class Target:
    queues: dict[str, str]  # short name (Upload, InferenceCallback, ...) -> queue URL
    sqs: Any
    lam: Any
    sfn: Any
    sns: Any
    where: str


def local_target(stack: Any) -> Target:
    from gallery_local import template as tpl

    queues = {
        logical.removesuffix("DeadLetterQueue"): stack.names.ref(logical)
        for logical in tpl.resources_of(stack.template, "AWS::SQS::Queue")
    }
    return Target(
        queues,
        stack.client("sqs"),
        stack.client("lambda"),
        stack.client("stepfunctions"),
        stack.client("sns"),
        "the local stack",
    )


def aws_target(stack_name: str, session: boto3.session.Session | None = None) -> Target:
    session = session or boto3.session.Session()
    stacks = session.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    queues = {k.removesuffix(OUTPUT_SUFFIX): v for k, v in outputs.items() if k.endswith(OUTPUT_SUFFIX)}
    if not queues:
        raise SystemExit(f"Stack {stack_name} has no dead-letter queue outputs: deploy this version first.")
    return Target(
        queues,
        session.client("sqs"),
        session.client("lambda"),
        session.client("stepfunctions"),
        session.client("sns"),
        f"stack {stack_name}",
    )


def _selected(target: Target, name: str | None) -> dict[str, str]:
    if name is None:
        return target.queues
    if name not in target.queues:
        raise SystemExit(f"No dead-letter queue {name} in {target.where}; there are {', '.join(target.queues)}.")
    return {name: target.queues[name]}


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, s = divmod(int(seconds), 60)
    hours, m = divmod(minutes, 60)
    return f"{hours} h {m:02d} min" if hours else f"{m} min {s:02d} s"


def list_queues(target: Target, name: str | None = None, out: Any = sys.stdout) -> list[dead_letters.Depth]:
    depths = [dead_letters.depth(target.sqs, n, url) for n, url in _selected(target, name).items()]
    print(f"Dead-letter queues of {target.where}:", file=out)
    width = max((len(d.queue) for d in depths), default=5)
    for d in depths:
        print(f"  {d.queue:<{width}}  {d.messages:>5} message(s)  oldest {_age(d.oldest_age_seconds)}", file=out)
    return depths


def redrive(target: Target, name: str | None = None, out: Any = sys.stdout) -> list[dead_letters.Redriven]:
    results = []
    for n, url in _selected(target, name).items():
        r = dead_letters.redrive(n, url, target.sqs, target.lam, target.sfn, target.sns)
        print(f"  {n}: {len(r.sent)} resent, {len(r.kept)} kept", file=out)
        for message_id, why in r.kept:
            print(f"    kept {message_id}: {why}", file=out)
        results.append(r)
    return results


@contextlib.contextmanager
def _target(args: argparse.Namespace) -> Iterator[Target]:
    if args.stack:
        yield aws_target(args.stack)
        return
    from gallery_local.stack import LocalStack

    print("Starting the local stack (its queues start empty)...", file=sys.stderr, flush=True)
    with LocalStack() as stack:
        yield local_target(stack)


def _list(args: argparse.Namespace) -> int:
    with _target(args) as target:
        list_queues(target, args.queue)
    return 0


def _redrive(args: argparse.Namespace) -> int:
    with _target(args) as target:
        results = redrive(target, args.queue)
    return 1 if any(r.kept for r in results) else 0


def add_parser(sub: Any) -> None:
    d = sub.add_parser("dlq", help="dead-letter queues: depth, oldest message, redrive")
    verbs = d.add_subparsers(dest="dlq_command", required=True)
    for verb, func, text in (
        ("list", _list, "each queue's depth and its oldest message's age"),
        ("redrive", _redrive, "send each message back where it came from; delete what was accepted"),
    ):
        v = verbs.add_parser(verb, help=text)
        v.add_argument("--queue", help="one queue (Upload, InferenceCallback, ExecutionEnded); default all")
        v.add_argument("--stack", help="a deployed stack (its Outputs); default the local stack")
        v.set_defaults(func=func)
