"""A small catalog for a fresh clone, made the way an operator makes one: the catalog workflow
generates a few planned items per theme (offline, the local Bedrock "draws" by choosing a
bundled portrait and writes the stories from templates; Polly's voice is eSpeak NG), the
automatic review rejects what cannot be swapped into, and what passes is approved."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from gallery import THEMES, catalog_items, catalog_plan, catalog_review
from gallery_local import catalog_workflow

# Per theme: the first items of the plan, which spread gender, age band and skin tone evenly.
PER_THEME = 8
APPROVER = "gallery demo (approves what passed the automatic review)"


def approved_themes(stack: Any) -> set[str]:
    table = stack.table("CatalogTable")
    return {t for t in THEMES if catalog_review.items(table, t, (catalog_items.APPROVED,))}


def build(
    stack: Any, themes: tuple[str, ...] = THEMES, per_theme: int = PER_THEME, concurrency: int = 2
) -> dict[str, catalog_workflow.Progress]:
    """Generate, review and approve a small catalog for `themes`; the themes run side by side,
    as separate workflow executions."""
    target = catalog_workflow.local_target(stack)

    def one(theme: str) -> catalog_workflow.Progress:
        items = catalog_plan.plan(theme, per_theme)
        arn = catalog_workflow.start(target, theme, items, concurrency)
        return catalog_workflow.follow(target, arn, theme, [i.portrait_id for i in items])

    with ThreadPoolExecutor(max_workers=len(themes)) as pool:
        progress = dict(zip(themes, pool.map(one, themes), strict=True))
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for theme in themes:
        pending = catalog_review.items(target.catalog, theme, (catalog_items.PENDING_REVIEW,))
        if pending:
            catalog_review.decide(
                target.catalog, theme, [i["portraitId"] for i in pending], catalog_items.APPROVED, None, APPROVER, now
            )
    target.save()
    return progress
