"""Pipeline latency on the local stack: end-to-end time per visit, time per stage, the share
of time spent outside the face engine, and eight visits at once.

    .venv/bin/python bench/pipeline_latency.py [--visits 20] [--photo PATH]

End-to-end is from the start of the tablet's upload to the moment the state machine records
DONE (SaveResult), both on this machine's clock. Face engine time is the model server's time
for the swap and restore requests (decode, model, PNG encode), plus the local Rekognition
face detection. Everything else
(S3, EventBridge, Step Functions, Lambda handlers, DynamoDB, SNS callbacks) is orchestration.
Writes its figures into bench/RESULTS.md between the pipeline markers."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT / "layers" / "gallery" / "python", ROOT / "containers" / "face", ROOT / "local", ROOT / "bench"):
    sys.path.insert(0, str(p))

import results_file  # noqa: E402
from PIL import Image  # noqa: E402

from gallery_local import demo_catalog, moto_hooks  # noqa: E402
from gallery_local.demo import DEMO  # noqa: E402
from gallery_local.stack import LocalStack, Settings  # noqa: E402
from gallery_local.tablet import Tablet  # noqa: E402

THEMES = ["painting", "realistic", "travel", "animation"]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def finished_epoch(stack: LocalStack, visit_id: str) -> float:
    item = stack.table("VisitsTable").get_item(Key={"visitId": visit_id})["Item"]
    return datetime.fromisoformat(item["finishedAt"].replace("Z", "+00:00")).timestamp()


def one_visit(stack: LocalStack, tablet: Tablet, photo: bytes, theme: str) -> dict:
    calls_before = len(moto_hooks.CALLS)
    inv_before = len(stack.endpoints.invocations)
    started_epoch = time.time()
    visit = tablet.visit(photo, theme)
    if visit.status != "DONE":
        raise RuntimeError(f"visit {visit.visit_id} ended {visit.status}: {visit.view}")
    e2e = finished_epoch(stack, visit.visit_id) - started_epoch
    detect = sum(e - s for n, s, e in list(moto_hooks.CALLS)[calls_before:] if n == "rekognition:DetectFaces")
    engine = sum(inv.get("request_ms", 0) for inv in stack.endpoints.invocations[inv_before:]) / 1000
    t = visit.view["timings"]
    return {
        "e2e": e2e,
        "observed": visit.seconds,
        "engine": engine + detect,
        "crop": t["cropMs"] / 1000,
        "portrait": t["portraitMs"] / 1000,
        "swap": t["swapMs"] / 1000,
        "restore": t["restoreMs"] / 1000,
    }


def sequential_visits(stack: LocalStack, tablet: Tablet, photo: bytes, visits: int) -> list[dict]:
    """`visits` visits one after another, after 3 warm-up visits (the first requests pay for
    imports and model loading)."""
    for i in range(3):
        one_visit(stack, tablet, photo, THEMES[i % 4])
    return [one_visit(stack, tablet, photo, THEMES[i % 4]) for i in range(visits)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--visits", type=int, default=20)
    ap.add_argument("--photo", default=str(DEMO / "photos" / "visitor-b.jpg"))
    args = ap.parse_args()
    photo = Path(args.photo).read_bytes()
    size = Image.open(args.photo).size

    with LocalStack(Settings(inference_timeout_seconds=60)) as stack:
        demo_catalog.build(stack)
        tablets = [Tablet(stack, d) for d in range(1, 9)]
        runs = sequential_visits(stack, tablets[0], photo, args.visits)

        # Eight tablets polling four times a second would cost the one local process more CPU
        # than the visits themselves; completion is read from the visit records anyway.
        for tablet in tablets:
            tablet.poll_seconds = 1.0
        started = time.time()
        with ThreadPoolExecutor(max_workers=8) as pool:
            visits = list(pool.map(lambda i: tablets[i].visit(photo, THEMES[i % 4], timeout=300), range(8)))
        statuses = [v.status for v in visits]
        concurrent_all = max(finished_epoch(stack, v.visit_id) for v in visits if v.status == "DONE") - started

    # What IAM enforcement costs: the same sequential visits on a stack that checks nothing.
    with LocalStack(Settings(inference_timeout_seconds=60, enforce_iam=False)) as open_stack:
        demo_catalog.build(open_stack)
        unchecked = [r["e2e"] for r in sequential_visits(open_stack, Tablet(open_stack, 1), photo, args.visits)]

    e2e = [r["e2e"] for r in runs]
    p50 = statistics.median(e2e)
    overhead = [1 - r["engine"] / r["e2e"] for r in runs]

    def p50_ms(key: str) -> str:
        return f"{statistics.median(r[key] for r in runs) * 1000:.0f} ms"

    rows = [
        ("end-to-end p50", f"{p50:.2f} s", "< 2 s"),
        ("end-to-end p95", f"{pct(e2e, 0.95):.2f} s", ""),
        (
            "as the tablet saw it (polls every 0.25 s), p50",
            f"{statistics.median(r['observed'] for r in runs):.2f} s",
            "",
        ),
        ("CropFace p50", p50_ms("crop"), ""),
        ("ChoosePortrait p50", p50_ms("portrait"), ""),
        ("SwapFace (invoke to callback) p50", p50_ms("swap"), ""),
        ("RestoreFace (invoke to callback) p50", p50_ms("restore"), ""),
        ("face engine time p50 (detect + swap + restore)", p50_ms("engine"), ""),
        ("orchestration overhead, median share", f"{statistics.median(overhead) * 100:.0f} %", "< 20 %"),
        ("8 visits at once: all DONE", f"{statuses.count('DONE')}/8", "8/8"),
        ("8 visits at once: time until the last is DONE", f"{concurrent_all:.2f} s", ""),
        ("8 at once / single p50", f"{concurrent_all / p50:.2f}x", "< 3x"),
        ("end-to-end p50 without IAM enforcement", f"{statistics.median(unchecked):.2f} s", ""),
        ("IAM enforced / not enforced, p50", f"{p50 / statistics.median(unchecked):.2f}x", ""),
    ]
    table = "\n".join(
        ["| figure | measured | target |", "|---|---|---|", *(f"| {a} | {b} | {c} |" for a, b, c in rows)]
    )
    section = (
        "## Pipeline latency (local stack)\n\n"
        f"Command: `make bench-pipeline` (`.venv/bin/python bench/pipeline_latency.py --visits {args.visits}`)  \n"
        f"Photo: {Path(args.photo).name}, {size[0]}x{size[1]} ({size[0] * size[1] / 1e6:.1f} MP); "
        f"{args.visits} sequential visits after 3 warm-up visits, then 8 at once on 8 displays, IAM "
        "enforced; then the sequential visits again on a stack without IAM enforcement.  \n"
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"measured {datetime.now().strftime('%Y-%m-%d %H:%M')}.\n\n{table}"
    )
    print(section)
    results_file.write_section("pipeline", section)


if __name__ == "__main__":
    main()
