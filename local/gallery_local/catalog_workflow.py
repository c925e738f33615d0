"""Driving the catalog workflow (statemachine/catalog.asl.json) from an operator's machine, with
the same code against the local stack and a deployed one: start a generation, follow it with a
progress line, and read what it made.

A `Target` is what the commands need of a stack: the Step Functions, S3 and DynamoDB clients, the
workflow's ARN, the table and bucket, and the models its functions may call. `local_target`
builds one from a running LocalStack, `aws_target` from a deployed stack's Outputs."""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import boto3

from gallery import catalog_generation, catalog_items, contracts
from gallery.catalog_plan import PlannedItem

FINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
# What an item's status counts as on the progress line.
MADE = (catalog_items.PENDING_REVIEW, catalog_items.APPROVED)


@dataclass
class Target:
    sfn: Any
    s3: Any
    catalog: Any  # the CatalogTable (a boto3 Table resource)
    bucket: str
    state_machine_arn: str
    image_model: str
    text_model: str
    where: str  # for messages: "the local stack" or "stack NAME"
    save: Callable[[], object] = lambda: None  # the local stack keeps its catalog in the data folder


def local_target(stack: Any) -> Target:
    from gallery_local import catalog_store

    env = stack.function_env[stack.names.name("CatalogGenerateFunction")]
    data_dir = stack.settings.data_dir
    return Target(
        sfn=stack.client("stepfunctions"),
        s3=stack.client("s3"),
        catalog=stack.table("CatalogTable"),
        bucket=stack.bucket,
        state_machine_arn=stack.catalog_state_machine_arn,
        image_model=env["CATALOG_IMAGE_MODEL"],
        text_model=env["CATALOG_TEXT_MODEL"],
        where="the local stack",
        save=(lambda: catalog_store.save(stack, data_dir)) if data_dir else (lambda: None),
    )


def aws_target(stack_name: str, session: boto3.session.Session | None = None) -> Target:
    session = session or boto3.session.Session()
    stacks = session.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    missing = [k for k in ("CatalogStateMachineArn", "CatalogTableName", "PhotoBucketName") if k not in outputs]
    if missing:
        raise SystemExit(f"Stack {stack_name} has no output {', '.join(missing)}: deploy this version first.")
    return Target(
        sfn=session.client("stepfunctions"),
        s3=session.client("s3"),
        catalog=session.resource("dynamodb").Table(outputs["CatalogTableName"]),
        bucket=outputs["PhotoBucketName"],
        state_machine_arn=outputs["CatalogStateMachineArn"],
        image_model=outputs.get("CatalogImageModelId", ""),
        text_model=outputs.get("CatalogTextModelId", ""),
        where=f"stack {stack_name}",
    )


def payload(item: PlannedItem) -> contracts.PlannedItem:
    """A planned item as the workflow's Map receives it."""
    return {
        "theme": item.theme,
        "portraitId": item.portrait_id,
        "variant": item.variant,
        # catalog_plan.plan gives every item one value per MATCHED + FLAVOUR dimension: the
        # contract's keys (tests/e2e/test_contracts_e2e.py validates a real run's payloads).
        "dimensions": cast(contracts.Dimensions, dict(item.dimensions)),
        "prompt": item.prompt,
        "negativePrompt": item.negative_prompt,
        "storyPrompt": item.story_prompt,
    }


def start(target: Target, theme: str, items: list[PlannedItem], concurrency: int) -> str:
    lanes = catalog_generation.lanes([payload(i) for i in items], concurrency)
    workflow_input: contracts.CatalogGenerationInput = {"theme": theme, "lanes": lanes}
    name = f"{theme}-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    resp = target.sfn.start_execution(
        stateMachineArn=target.state_machine_arn, name=name, input=json.dumps(workflow_input)
    )
    return resp["executionArn"]


def items_of(target: Target, theme: str) -> list[dict]:
    return catalog_items.of_theme(target.catalog, theme, ConsistentRead=True)


@dataclass
class Progress:
    total: int
    counts: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    status: str = "RUNNING"
    error: str | None = None
    cause: str | None = None

    @property
    def finished(self) -> int:
        return sum(n for s, n in self.counts.items() if s != catalog_items.GENERATED)

    @property
    def rate(self) -> float:
        return self.finished / self.seconds if self.seconds > 0 else 0.0

    def line(self, width: int = 24) -> str:
        done = min(self.total, self.finished)
        bar = "#" * round(width * done / max(1, self.total))
        left = (self.total - done) / self.rate if self.rate > 0 else float("nan")
        when = f"{left:.0f} s left" if left == left else "estimating"
        made = sum(self.counts[s] for s in MADE)
        return (
            f"[{bar:<{width}}] {done}/{self.total}  made {made} · rejected {self.counts[catalog_items.REJECTED]}"
            f" · filtered {self.counts[catalog_items.FILTERED]} · failed {self.counts[catalog_items.FAILED]}"
            f"  {self.rate:.2f} items/s, {when}"
        )

    def as_dict(self) -> dict:
        return dataclasses.asdict(self) | {"counts": dict(self.counts), "finished": self.finished}


def follow(
    target: Target,
    execution_arn: str,
    theme: str,
    portrait_ids: list[str],
    on_progress: Callable[[Progress], None] | None = None,
    poll_seconds: float = 0.5,
    timeout: float = 6 * 3600,
) -> Progress:
    """Poll the execution and the items it is making until it ends."""
    wanted, began = set(portrait_ids), time.time()
    progress = Progress(total=len(wanted))
    while True:
        execution = target.sfn.describe_execution(executionArn=execution_arn)
        progress.counts = Counter(i["status"] for i in items_of(target, theme) if i["portraitId"] in wanted)
        progress.seconds = time.time() - began
        progress.status = execution["status"]
        if on_progress:
            on_progress(progress)
        if execution["status"] in FINAL or progress.seconds > timeout:
            progress.error, progress.cause = execution.get("error"), execution.get("cause")
            return progress
        time.sleep(poll_seconds)


def generate(
    target: Target,
    theme: str,
    items: list[PlannedItem],
    concurrency: int,
    on_progress: Callable[[Progress], None] | None = None,
) -> Progress:
    """Run a generation to its end and keep what it made."""
    arn = start(target, theme, items, concurrency)
    try:
        return follow(target, arn, theme, [i.portrait_id for i in items], on_progress)
    finally:
        target.save()
