"""`gallery catalog ...`: the operators' catalog commands. `plan` says what a generation would
make and cost; it calls no AWS service and spends nothing."""

from __future__ import annotations

import argparse
import dataclasses
import json

from gallery import catalog_plan


def _duration(seconds: float) -> str:
    minutes, s = divmod(int(round(seconds)), 60)
    hours, m = divmod(minutes, 60)
    return f"{hours} h {m:02d} min" if hours else f"{m} min {s:02d} s"


def plan(args: argparse.Namespace) -> int:
    items = catalog_plan.plan(args.theme, args.limit)
    est = catalog_plan.estimate(items, args.model, args.text_model, args.concurrency)
    coverage = catalog_plan.coverage(items)
    if args.json:
        print(json.dumps({"estimate": dataclasses.asdict(est) | {"cost": est.cost}, "coverage": coverage}, indent=1))
        return 0
    print(f"Theme {args.theme}: {est.items} portraits and {est.stories} stories (Korean and English).")
    for dimension, counts in coverage.items():
        print(f"  {dimension}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(f"Images:  {est.image_model}  ${est.image_cost:,.2f}")
    print(f"Stories: {est.text_model}  ${est.text_cost:,.2f}")
    print(f"Total:   ${est.cost:,.2f} (prices checked {est.prices_checked}; nothing is spent by plan)")
    print(f"Time:    about {_duration(est.seconds)} at concurrency {est.concurrency}")
    for note in est.notes:
        print(f"Note: {note}")
    return 0


def add_parser(sub: argparse._SubParsersAction, themes: tuple[str, ...]) -> None:
    c = sub.add_parser("catalog", help="prepare the catalog of portraits and stories")
    csub = c.add_subparsers(dest="catalog_command", required=True)
    p = csub.add_parser("plan", help="what a generation would make, cost and take; spends nothing")
    p.add_argument("--theme", choices=themes, required=True)
    p.add_argument("--model", help="image model id (default: the prices file's default)")
    p.add_argument("--text-model", help="story model id (default: the prices file's default)")
    p.add_argument("--limit", type=int, help="only the first N items of the plan")
    p.add_argument("--concurrency", type=int, default=4, help="items generated at once (default: 4)")
    p.add_argument("--json", action="store_true", help="print the estimate as JSON")
    p.set_defaults(func=plan)
