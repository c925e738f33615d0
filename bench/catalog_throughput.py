"""Catalog throughput on the local stack: items per second through the catalog workflow
(statemachine/catalog.asl.json on moto, the real handlers, the local Bedrock and Polly, the face
engine's review), at several concurrencies, and the share of time spent outside the emulated
services (Step Functions, Lambda handlers, S3, DynamoDB: the workflow itself).

    .venv/bin/python bench/catalog_throughput.py [--items 20] [--theme painting]

Emulated time is what the local Bedrock (drawing and stories), the local Polly (eSpeak NG) and
the local Rekognition (the face engine) spend answering; on AWS these are the model calls. The
share outside them is measured on the serial run (concurrency 1), where times add up.
Writes its figures into bench/RESULTS.md between the catalog-throughput markers."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import ParamSpec, TypeVar
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT / "layers" / "gallery" / "python", ROOT / "containers" / "face", ROOT / "local", ROOT / "bench"):
    sys.path.insert(0, str(p))

import results_file  # noqa: E402

from gallery import catalog_plan  # noqa: E402
from gallery_local import catalog_workflow, moto_hooks, polly_local  # noqa: E402
from gallery_local.stack import LocalStack, Settings  # noqa: E402

P = ParamSpec("P")
R = TypeVar("R")


class Clock:
    """Seconds spent inside wrapped callables, across threads."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.lock = threading.Lock()

    def wrap(self, fn: Callable[P, R]) -> Callable[P, R]:
        def timed(*args: P.args, **kwargs: P.kwargs) -> R:
            began = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                with self.lock:
                    self.seconds += time.perf_counter() - began

        return timed


def detect_seconds(since: int) -> float:
    return sum(e - s for n, s, e in list(moto_hooks.CALLS)[since:] if n == "rekognition:DetectFaces")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=20, help="items per run")
    ap.add_argument("--theme", default="painting")
    args = ap.parse_args()
    concurrencies = (1, 2, 4)
    planned = catalog_plan.plan(args.theme)
    need = 2 + args.items * len(concurrencies)
    if len(planned) < need:
        raise SystemExit(f"the {args.theme} plan has {len(planned)} items; {need} are needed")

    bedrock, polly = Clock(), Clock()
    polly_local.synthesize = polly.wrap(polly_local.synthesize)
    rows = []
    with (
        LocalStack(Settings()) as stack,
        # Its server looks handle up on each request, so the patched one answers them all.
        mock.patch.object(stack.bedrock, "handle", bedrock.wrap(stack.bedrock.handle)),
    ):
        target = catalog_workflow.local_target(stack)
        catalog_workflow.generate(target, args.theme, planned[:2], 1)  # warm-up: imports, models
        for i, concurrency in enumerate(concurrencies):
            items = planned[2 + i * args.items : 2 + (i + 1) * args.items]
            b0, p0, d0 = bedrock.seconds, polly.seconds, len(moto_hooks.CALLS)
            began = time.perf_counter()
            progress = catalog_workflow.generate(target, args.theme, items, concurrency)
            wall = time.perf_counter() - began
            if progress.status != "SUCCEEDED" or progress.finished != len(items):
                raise RuntimeError(f"run at concurrency {concurrency} ended {progress.status}: {progress.counts}")
            rows.append(
                (
                    concurrency,
                    len(items) / wall,
                    wall,
                    bedrock.seconds - b0,
                    polly.seconds - p0,
                    detect_seconds(d0),
                    dict(progress.counts),
                )
            )
    base = rows[0][1]
    # The serial run (concurrency 1), where times add up: its share outside the emulated services.
    _, _, serial_wall, serial_b, serial_p, serial_d, _ = next(r for r in rows if r[0] == 1)
    serial_share = 1 - (serial_b + serial_p + serial_d) / serial_wall
    table = [
        "| concurrency | items/s | ratio to 1 | wall s | Bedrock s | Polly s | review (DetectFaces) s | outcome |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c, rate, wall, b, p, d, counts in rows:
        outcome = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        times = f"{wall:.1f} | {b:.1f} | {p:.1f} | {d:.1f}"
        table.append(f"| {c} | {rate:.2f} | {rate / base:.2f}x | {times} | {outcome} |")
    section = (
        "## Catalog throughput (local stack)\n\n"
        f"Command: `make bench-catalog` (`.venv/bin/python bench/catalog_throughput.py --items {args.items} "
        f"--theme {args.theme}`)  \n"
        f"{args.items} planned {args.theme} items per run through the catalog workflow, after a 2-item warm-up; "
        "each item is one InvokeModel, one or two Converse calls, two SynthesizeSpeech calls and one DetectFaces, "
        "IAM enforced.  \n"
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"measured {datetime.now().strftime('%Y-%m-%d %H:%M')}.\n\n" + "\n".join(table) + "\n\n"
        f"Share of the serial run's time outside the emulated services (the workflow itself: Step Functions, "
        f"Lambda handlers, S3, DynamoDB): **{serial_share * 100:.0f} %**. On AWS the model calls take seconds "
        "each (an image 6-14 s), so the workflow's own share there is far smaller."
    )
    print(section)
    results_file.write_section("catalog-throughput", section)


if __name__ == "__main__":
    main()
