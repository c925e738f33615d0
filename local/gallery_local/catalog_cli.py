"""`gallery catalog ...`: the operators' catalog commands, with the same code against the local
stack and, with `--stack NAME`, a deployed one.

- `plan` says what a generation would make, cost and take; it calls no AWS service.
- `generate` runs the catalog workflow (Step Functions) and follows it with a progress line.
- `approve`, `reject` and `status` read and decide items as the review page does.
- `review` serves the pages on the local stack and opens the review page.

The local stack keeps its catalog in a git-ignored data folder (catalog_store), so what is
generated and approved today is there tomorrow."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import getpass
import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from gallery import catalog_items, catalog_plan, catalog_review

if TYPE_CHECKING:
    from gallery_local.catalog_workflow import Target


def _duration(seconds: float) -> str:
    minutes, s = divmod(int(round(seconds)), 60)
    hours, m = divmod(minutes, 60)
    return f"{hours} h {m:02d} min" if hours else f"{m} min {s:02d} s"


def plan(args: argparse.Namespace) -> int:
    items = catalog_plan.plan(args.theme, args.limit)
    est = catalog_plan.estimate(items, args.model, args.text_model, args.concurrency)
    if args.json:
        coverage = catalog_plan.coverage(items)
        print(json.dumps({"estimate": dataclasses.asdict(est) | {"cost": est.cost}, "coverage": coverage}, indent=1))
        return 0
    _print_estimate(args.theme, items, est)
    print("Nothing is spent by plan.")
    return 0


def _print_estimate(theme: str, items: list[catalog_plan.PlannedItem], est: catalog_plan.Estimate) -> None:
    """What a generation would make, cost and take (plan prints it; generate before asking)."""
    print(f"Theme {theme}: {est.items} portraits and {est.stories} stories (Korean and English).")
    for dimension, counts in catalog_plan.coverage(items).items():
        print(f"  {dimension}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(f"Images:  {est.image_model}  ${est.image_cost:,.2f}")
    print(f"Stories: {est.text_model}  ${est.text_cost:,.2f}")
    print(f"Total:   about ${est.cost:,.2f} (prices checked {est.prices_checked})")
    print(f"Time:    about {_duration(est.seconds)} at concurrency {est.concurrency}")
    for note in est.notes:
        print(f"Note: {note}")


@contextlib.contextmanager
def _target(args: argparse.Namespace) -> Iterator:
    """The stack the command works on: a deployed one (--stack) or the local stack, started with
    the catalog kept in the data folder."""
    from gallery_local import catalog_workflow

    if args.stack:
        yield catalog_workflow.aws_target(args.stack)
        return
    from gallery_local import catalog_store
    from gallery_local.stack import LocalStack, Settings

    settings = Settings(
        data_dir=catalog_store.DATA_DIR,
        catalog_image_model=getattr(args, "model", None),
        catalog_text_model=getattr(args, "text_model", None),
    )
    print("Starting the local stack...", file=sys.stderr, flush=True)
    with LocalStack(settings) as stack:
        yield catalog_workflow.local_target(stack)


def generate(args: argparse.Namespace) -> int:
    from gallery_local import catalog_workflow

    items = catalog_plan.plan(args.theme, args.limit)
    est = catalog_plan.estimate(items, args.model, args.text_model, args.concurrency)
    _print_estimate(args.theme, items, est)
    if not args.yes:
        if not sys.stdin.isatty():
            print("Nothing spent: add --yes to generate without asking.", file=sys.stderr)
            return 2
        if input(f"Generate {est.items} items for about ${est.cost:,.2f}? [y/N] ").strip().lower() not in ("y", "yes"):
            print("Nothing spent.")
            return 1
    with _target(args) as target:
        for wanted, deployed, flag in (
            (args.model, target.image_model, "--model"),
            (args.text_model, target.text_model, "--text-model"),
        ):
            if wanted and deployed and wanted != deployed:
                print(
                    f"{target.where} may call {deployed} only ({flag} {wanted}): deploy with that model first.",
                    file=sys.stderr,
                )
                return 2
        tty = sys.stderr.isatty()

        def show(p: catalog_workflow.Progress) -> None:
            if tty:
                print("\r" + p.line(), end="", file=sys.stderr, flush=True)

        progress = catalog_workflow.generate(target, args.theme, items, args.concurrency, show)
        if tty:
            print(file=sys.stderr)
    if args.json:
        print(json.dumps(progress.as_dict(), indent=1))
    else:
        print(progress.line())
        print(f"Workflow {progress.status} in {progress.seconds:.1f} s on {target.where}.")
        if progress.error:
            print(f"{progress.error}: {progress.cause}")
    return 0 if progress.status == "SUCCEEDED" else 1


def _decide(args: argparse.Namespace, decision: str) -> int:
    with _target(args) as target:
        if args.all:
            wanted = (
                (catalog_items.PENDING_REVIEW,)
                if decision == catalog_items.APPROVED
                else (catalog_items.PENDING_REVIEW, catalog_items.APPROVED)
            )
            ids = [i["portraitId"] for i in catalog_review.items(target.catalog, args.theme, wanted)]
        else:
            ids = args.ids
        if not ids:
            print(f"Nothing to decide in {args.theme}.")
            return 0
        by = f"{getpass.getuser()} (gallery catalog)"
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        result: dict[str, list[dict]] = {"decided": [], "refused": []}
        for start in range(0, len(ids), catalog_review.MAX_IDS):
            part = catalog_review.decide(
                target.catalog, args.theme, ids[start : start + catalog_review.MAX_IDS], decision, args.reason, by, now
            )
            result["decided"] += part["decided"]
            result["refused"] += part["refused"]
        target.save()
    print(f"{len(result['decided'])} {decision.lower()} in {args.theme}.")
    for r in result["refused"]:
        print(f"  {r['portraitId']}: {r.get('message') or r['error']}")
    return 0 if not result["refused"] else 1


def approve(args: argparse.Namespace) -> int:
    return _decide(args, catalog_items.APPROVED)


def reject(args: argparse.Namespace) -> int:
    return _decide(args, catalog_items.REJECTED)


def status(args: argparse.Namespace) -> int:
    from gallery import THEMES

    themes = [args.theme] if args.theme else list(THEMES)
    with _target(args) as target:
        counts = catalog_review.counts(target.catalog, themes)
        reasons = {t: _reasons(target, t) for t in themes}
    if args.json:
        print(json.dumps({t: counts[t] | {"rejectedFor": reasons[t]} for t in themes}, indent=1, default=str))
        return 0
    for theme in themes:
        c = counts[theme]
        line = ", ".join(f"{s} {n}" for s, n in c["status"].items() if n)
        print(f"{theme}: {c['total']} items" + (f" ({line})" if line else ""))
        if reasons[theme]:
            print("  rejected for: " + ", ".join(f"{r} {n}" for r, n in reasons[theme].items()))
        for dimension, values in c["approved"].items():
            if values:
                print(f"  approved by {dimension}: " + ", ".join(f"{v} {n}" for v, n in values.items()))
    return 0


def _reasons(target: Target, theme: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in catalog_review.items(target.catalog, theme, (catalog_items.REJECTED,)):
        reason = str(item.get("reviewReason") or "unknown")
        out[reason] = out.get(reason, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def review(args: argparse.Namespace) -> int:
    from gallery_local import serve

    return serve.run(args.port, open_path="/admin/catalog")


def add_parser(sub: argparse._SubParsersAction, themes: tuple[str, ...]) -> None:
    c = sub.add_parser("catalog", help="prepare the catalog of portraits and stories")
    csub = c.add_subparsers(dest="catalog_command", required=True)

    def plan_options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--theme", choices=themes, required=True)
        parser.add_argument("--model", help="image model id (default: the stack's CatalogImageModelId)")
        parser.add_argument("--text-model", help="story model id, with its inference profile")
        parser.add_argument("--limit", type=int, help="only the first N items of the plan")
        parser.add_argument("--concurrency", type=int, default=4, help="items generated at once (default: 4)")
        parser.add_argument("--json", action="store_true", help="print the outcome as JSON")

    p = csub.add_parser("plan", help="what a generation would make, cost and take; spends nothing")
    plan_options(p)
    p.set_defaults(func=plan)

    def stack_option(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--stack", help="a deployed stack's name (default: the local stack)")

    g = csub.add_parser("generate", help="generate portraits and stories on the catalog workflow")
    plan_options(g)
    g.add_argument("--yes", action="store_true", help="do not ask before spending")
    stack_option(g)
    g.set_defaults(func=generate)

    for name, func, verb in (("approve", approve, "approve"), ("reject", reject, "reject")):
        d = csub.add_parser(name, help=f"{verb} portraits (as the review page does)")
        d.add_argument("--theme", choices=themes, required=True)
        which = d.add_mutually_exclusive_group(required=True)
        which.add_argument("--all", action="store_true", help=f"{verb} every item awaiting review")
        which.add_argument("ids", nargs="*", default=[], metavar="ID", help="portrait ids")
        d.add_argument("--reason", required=name == "reject", help="why (a rejection needs one)")
        stack_option(d)
        d.set_defaults(func=func)

    st = csub.add_parser("status", help="counts per theme and status, and what the approved cover")
    st.add_argument("--theme", choices=themes)
    st.add_argument("--json", action="store_true")
    stack_option(st)
    st.set_defaults(func=status)

    r = csub.add_parser("review", help="serve the pages on the local stack and open the review page")
    r.add_argument("--port", type=int, default=8000)
    r.set_defaults(func=review)
