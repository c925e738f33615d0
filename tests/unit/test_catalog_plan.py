"""The catalog plan: every theme's data file, stable item ids, balanced prefixes, and the cost
and time estimate from the prices file."""

from __future__ import annotations

import json

import pytest

from gallery import THEMES, catalog_plan
from gallery_local import cli


@pytest.mark.parametrize("theme", THEMES)
def test_every_theme_plans_every_matching_cell(theme):
    spec = catalog_plan.load_theme(theme)
    items = catalog_plan.plan(theme)
    dims = spec["dimensions"]
    cells = {tuple(i.dimensions[d] for d in catalog_plan.MATCHED) for i in items}
    assert len(cells) == len(dims["age"]) * len(dims["gender"]) * len(dims["skinTone"])
    assert len(items) == len(cells) * spec["variantsPerCell"]
    for item in items:
        # The prompt names what the swap needs and the visitor is matched on.
        for d in ("age", "gender", "skinTone", "occupation", "country", "era"):
            assert item.dimensions[d] in item.prompt
        assert "one " in item.prompt and "head and shoulders" in item.prompt and "{" not in item.prompt
        assert "당신은" in item.story_prompt and "You were" in item.story_prompt


def test_ids_are_stable_unique_and_depend_only_on_theme_dimensions_and_variant():
    first, again = catalog_plan.plan("painting"), catalog_plan.plan("painting")
    assert [i.portrait_id for i in first] == [i.portrait_id for i in again]
    assert len({i.portrait_id for i in first}) == len(first)
    item = first[5]
    assert catalog_plan.portrait_id("painting", dict(item.dimensions), item.variant) == item.portrait_id
    assert catalog_plan.portrait_id("realistic", dict(item.dimensions), item.variant) != item.portrait_id
    assert catalog_plan.portrait_id("painting", dict(item.dimensions), item.variant + 1) != item.portrait_id


def test_a_limited_plan_is_the_start_of_the_whole_plan():
    whole = catalog_plan.plan("travel")
    assert catalog_plan.plan("travel", limit=10) == whole[:10]


@pytest.mark.parametrize("theme", THEMES)
def test_every_prefix_spreads_the_matched_dimensions_evenly(theme):
    items = catalog_plan.plan(theme)
    dims = catalog_plan.load_theme(theme)["dimensions"]
    for n in range(1, len(items) + 1):
        for d, counts in catalog_plan.coverage(items[:n]).items():
            values = [counts.get(v, 0) for v in dims[d]]
            assert max(values) - min(values) <= 1, (theme, n, d, counts)


def test_the_estimate_follows_the_prices_file():
    items = catalog_plan.plan("painting", limit=10)
    prices = catalog_plan.load_prices()
    est = catalog_plan.estimate(items, "stability.stable-image-core-v1:1", concurrency=4, prices=prices)
    image = prices["images"]["stability.stable-image-core-v1:1"]
    text = prices["text"][prices["defaults"]["text"]]
    tokens = prices["storyTokens"]
    assert est.image_cost == pytest.approx(10 * image["perImage"])
    story = tokens["input"] / 1000 * text["per1kInput"] + tokens["output"] / 1000 * text["per1kOutput"]
    assert est.text_cost == pytest.approx(10 * story)
    assert est.seconds == 3 * (image["typicalSeconds"] + text["typicalSeconds"])  # ceil(10 / 4) rounds
    assert est.prices_checked == prices["checked"] and not est.notes


def test_a_model_without_a_price_is_said_not_hidden():
    est = catalog_plan.estimate(catalog_plan.plan("painting", limit=2), "amazon.nova-canvas-v1:0")
    assert est.image_cost == 0 and any("amazon.nova-canvas-v1:0" in n for n in est.notes)


def test_an_unknown_theme_is_refused():
    with pytest.raises(ValueError, match="themes are"):
        catalog_plan.plan("sculpture")


def test_the_cli_prints_the_plan_as_json(capsys):
    assert cli.main(["catalog", "plan", "--theme", "animation", "--limit", "12", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["estimate"]["items"] == 12 and out["estimate"]["cost"] > 0
    assert sum(out["coverage"]["gender"].values()) == 12
