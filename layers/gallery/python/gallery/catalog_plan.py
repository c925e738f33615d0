"""What a catalog generation would make, and what it would cost, before anything is spent.

Each theme has a versioned data file (catalog_data/{theme}.json): the dimensions a portrait is
drawn from (country, era, occupation, and the three a visitor is matched on: age band, gender and
skin tone), the prompt template, the negative prompt, the size per model family and the story
prompt. A plan lists the items: every matching cell (age x gender x skin tone) `variantsPerCell`
times, each with a country, era and occupation spread evenly over the cells, so that the first N
items of a plan (`--limit N`) still cover every cell before any repeats.

An item's id depends only on its theme, its dimensions and its variant, never on the order or
the prompt's wording, so a generation stopped half-way and run again finds what it already made
and does not pay for it twice."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gallery import THEMES

DATA = Path(__file__).resolve().parent / "catalog_data"
MATCHED = ("age", "gender", "skinTone")  # what a visitor is matched on
FLAVOUR = ("country", "era", "occupation")  # what makes each past life different


@dataclass(frozen=True)
class PlannedItem:
    theme: str
    portrait_id: str
    variant: int
    dimensions: dict[str, str]
    prompt: str
    negative_prompt: str
    story_prompt: str


@dataclass
class Estimate:
    items: int
    images: int
    stories: int
    image_model: str
    text_model: str
    image_cost: float
    text_cost: float
    seconds: float
    concurrency: int
    prices_checked: str
    notes: list[str] = field(default_factory=list)

    @property
    def cost(self) -> float:
        return self.image_cost + self.text_cost


def load_theme(theme: str) -> dict:
    if theme not in THEMES:
        raise ValueError(f"Unknown theme {theme!r}; the themes are {', '.join(THEMES)}.")
    return json.loads((DATA / f"{theme}.json").read_text(encoding="utf-8"))


def load_prices() -> dict:
    return json.loads((DATA / "prices.json").read_text(encoding="utf-8"))


def portrait_id(theme: str, dimensions: dict[str, str], variant: int) -> str:
    """Stable: the same theme, dimensions and variant always give the same id."""
    key = json.dumps({"theme": theme, "dimensions": dimensions, "variant": variant}, sort_keys=True)
    return f"{theme}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def plan(theme: str, limit: int | None = None) -> list[PlannedItem]:
    spec = load_theme(theme)
    dims = spec["dimensions"]
    cells = _balanced(list(itertools.product(*(dims[d] for d in MATCHED))))
    flavours = list(itertools.product(*(dims[d] for d in FLAVOUR)))
    items: list[PlannedItem] = []
    for variant in range(int(spec["variantsPerCell"])):
        for c, cell in enumerate(cells):
            # A stride coprime with the number of flavours visits them all before repeating.
            k = variant * len(cells) + c
            flavour = flavours[(k * _stride(len(flavours))) % len(flavours)]
            d = dict(zip(MATCHED + FLAVOUR, cell + flavour, strict=True))
            items.append(
                PlannedItem(
                    theme=theme,
                    portrait_id=portrait_id(theme, d, variant),
                    variant=variant,
                    dimensions=d,
                    prompt=spec["prompt"].format(skin=d["skinTone"], **d),
                    negative_prompt=spec["negativePrompt"],
                    story_prompt=spec["story"]["prompt"].format(skin=d["skinTone"], **d),
                )
            )
            if limit is not None and len(items) >= limit:
                return items
    return items


def _balanced(cells: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """The cells in an order whose every prefix spreads each dimension's values as evenly as
    it can: the next cell is the one whose values have been used least so far."""
    used: list[dict[str, int]] = [{} for _ in cells[0]] if cells else []
    left, out = list(cells), []
    while left:
        best = min(left, key=lambda c: sorted((used[i].get(v, 0) for i, v in enumerate(c)), reverse=True))
        left.remove(best)
        out.append(best)
        for i, v in enumerate(best):
            used[i][v] = used[i].get(v, 0) + 1
    return out


def _stride(n: int) -> int:
    """The first number above n/3 that shares no factor with n (1 for tiny n)."""
    for s in range(max(1, n // 3), n + 1):
        if math.gcd(s, n) == 1:
            return s
    return 1


def estimate(
    items: list[PlannedItem],
    image_model: str | None = None,
    text_model: str | None = None,
    concurrency: int = 4,
    prices: dict | None = None,
) -> Estimate:
    """Cost and time of generating `items` (one image and one story each)."""
    prices = prices or load_prices()
    image_model = image_model or prices["defaults"]["image"]
    text_model = text_model or prices["defaults"]["text"]
    notes = []
    image_price: dict[str, Any] = prices["images"].get(image_model) or {}
    text_price: dict[str, Any] = prices["text"].get(text_model) or {}
    if not image_price:
        notes.append(f"no price known for {image_model}: its images are counted at 0")
    if not text_price:
        notes.append(f"no price known for {text_model}: its stories are counted at 0")
    tokens = prices["storyTokens"]
    n = len(items)
    image_cost = n * float(image_price.get("perImage", 0.0))
    text_cost = n * (
        tokens["input"] / 1000 * float(text_price.get("per1kInput", 0.0))
        + tokens["output"] / 1000 * float(text_price.get("per1kOutput", 0.0))
    )
    per_item = float(image_price.get("typicalSeconds", 0)) + float(text_price.get("typicalSeconds", 0))
    concurrency = max(1, int(concurrency))
    seconds = math.ceil(n / concurrency) * per_item
    return Estimate(
        items=n,
        images=n,
        stories=n,
        image_model=image_model,
        text_model=text_model,
        image_cost=round(image_cost, 4),
        text_cost=round(text_cost, 4),
        seconds=seconds,
        concurrency=concurrency,
        prices_checked=prices["checked"],
        notes=notes,
    )


def coverage(items: list[PlannedItem]) -> dict[str, dict[str, int]]:
    """How many items each value of each matched dimension has."""
    out: dict[str, dict[str, int]] = {d: {} for d in MATCHED}
    for item in items:
        for d in MATCHED:
            out[d][item.dimensions[d]] = out[d].get(item.dimensions[d], 0) + 1
    return out
