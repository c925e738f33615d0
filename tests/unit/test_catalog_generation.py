"""Catalog generation's model adapters and story checks, on the request and answer shapes the
Bedrock documentation gives (FIELD-NOTES: Bedrock for the catalog)."""

from __future__ import annotations

import base64
import json

import pytest

from gallery import bedrock_images, catalog_plan, stories

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()


def item_and_size():
    item = catalog_plan.plan("painting", limit=1)[0]
    return item, catalog_plan.load_theme("painting")["size"]


@pytest.mark.parametrize(
    "model_id, fam",
    [
        ("stability.stable-image-core-v1:1", "stability"),
        ("us.stability.sd3-5-large-v1:0", "stability"),
        ("amazon.nova-canvas-v1:0", "nova"),
        ("amazon.titan-image-generator-v2:0", "titan"),
    ],
)
def test_the_family_comes_from_the_model_id(model_id, fam):
    assert bedrock_images.family(model_id) == fam


def test_a_text_model_is_not_an_image_model():
    with pytest.raises(bedrock_images.ModelUnavailable):
        bedrock_images.family("anthropic.claude-haiku-4-5-20251001-v1:0")


def test_a_stability_request_has_only_its_documented_fields():
    item, size = item_and_size()
    body = bedrock_images.image_request("stability.stable-image-core-v1:1", item.prompt, item.negative_prompt, size, 7)
    assert set(body) == {"prompt", "negative_prompt", "aspect_ratio", "seed", "output_format"}
    assert body["aspect_ratio"] in bedrock_images.STABILITY_RATIOS and body["prompt"] == item.prompt
    assert 0 <= bedrock_images.image_request("stability.x", "p", "", size, 2**40)["seed"] <= bedrock_images.MAX_SEED


def test_a_nova_request_has_the_text_to_image_shape():
    item, size = item_and_size()
    body = bedrock_images.image_request("amazon.nova-canvas-v1:0", item.prompt, item.negative_prompt, size, 2**40)
    assert body["taskType"] == "TEXT_IMAGE"
    assert set(body["textToImageParams"]) == {"text", "negativeText"}
    config = body["imageGenerationConfig"]
    assert config["width"] % 16 == 0 and config["height"] % 16 == 0 and 0 <= config["seed"] <= 858_993_459


def test_sizes_the_models_refuse_are_refused_before_calling():
    with pytest.raises(ValueError):
        bedrock_images.image_request("amazon.nova-canvas-v1:0", "p", "", {"nova": {"width": 1000, "height": 1024}}, 1)
    with pytest.raises(ValueError):
        bedrock_images.image_request("stability.x", "p", "", {"stability": {"aspect_ratio": "7:3"}}, 1)


def test_filter_reasons_are_filtered_not_images():
    with pytest.raises(bedrock_images.Filtered, match="prompt"):
        bedrock_images.parse_image_response(
            "stability.x", {"images": [PNG], "seeds": [1], "finish_reasons": ["Filter reason: prompt"]}
        )
    with pytest.raises(bedrock_images.Filtered, match="blocked"):
        bedrock_images.parse_image_response("amazon.nova-canvas-v1:0", {"images": [], "error": "blocked output"})
    data, ext = bedrock_images.parse_image_response(
        "stability.x", {"images": [PNG], "seeds": [1], "finish_reasons": [None]}
    )
    assert data.startswith(b"\x89PNG") and ext == "png"


GOOD = {
    "title_ko": "피렌체의 상인",
    "story_ko": "당신은 " + "피렌체의 비단 상인으로, 매일 아침 강가의 시장에서 가장 고운 천을 골랐습니다. " * 2,
    "title_en": "The Silk Merchant",
    "story_en": "You were a silk merchant in Florence.",
}


def test_a_good_story_has_no_problems_even_inside_prose():
    story, wrong = stories.problems("Here it is:\n```json\n" + json.dumps(GOOD, ensure_ascii=False) + "\n```")
    assert wrong == [] and story["title_en"] == "The Silk Merchant"


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"story_ko": "옛날에 " + "가" * 140}, "당신은"),
        ({"story_ko": "당신은 짧다"}, "about 150"),
        ({"story_en": "Once upon a time"}, "You were"),
        ({"title_en": ""}, "title_en"),
    ],
)
def test_a_story_that_does_not_hold_says_why(change, problem):
    _, wrong = stories.problems(json.dumps({**GOOD, **change}, ensure_ascii=False))
    assert any(problem in w for w in wrong), wrong


def test_an_answer_that_is_not_json_is_a_problem():
    assert stories.problems("You were a merchant.")[1] == ["the answer is not a JSON object"]


def test_the_converse_request_carries_system_and_prompt():
    req = stories.converse_request("us.anthropic.claude-haiku-4-5-20251001-v1:0", "sys", "write")
    assert req["system"] == [{"text": "sys"}] and req["messages"][0]["content"][0]["text"] == "write"
    assert req["inferenceConfig"]["maxTokens"] > 0
