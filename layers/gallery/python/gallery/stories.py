"""A catalog portrait's story, in Korean and English, from a Bedrock text model (Converse).

The model is asked for a JSON object (title and story in both languages); the answer is checked
against what the card needs: the Korean story begins "당신은" and runs about 150 characters, the
English one begins "You were". An answer that does not parse or does not hold is sent back once
with what was wrong (one repair try); a second bad answer fails the item. Tokens are counted, for
the cost the catalog records."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gallery.errors import GalleryError

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient

KO_START, EN_START = "당신은", "You were"
KO_LENGTH = (80, 260)  # "about 150 characters", with room either side
FIELDS = ("title_ko", "story_ko", "title_en", "story_en")


class StoryRejected(GalleryError):
    """The model's answer was not a usable story, even after one repair try."""


@dataclass
class Story:
    title_ko: str
    story_ko: str
    title_en: str
    story_en: str
    input_tokens: int
    output_tokens: int


def converse_request(model_id: str, system: str, prompt: str, max_tokens: int = 600) -> dict:
    """Converse keyword arguments for one story."""
    return {
        "modelId": model_id,
        "system": [{"text": system}],
        "messages": [{"role": "user", "content": [{"text": prompt}]}],
        "inferenceConfig": {"maxTokens": max_tokens, "temperature": 0.8},
    }


def problems(answer: str) -> tuple[dict | None, list[str]]:
    """The parsed story and what is wrong with it (empty when it is usable)."""
    text = answer.strip()
    fenced = re.search(r"\{.*\}", text, re.S)  # models wrap JSON in prose or code fences
    try:
        story = json.loads(fenced.group(0) if fenced else text)
    except ValueError:
        return None, ["the answer is not a JSON object"]
    if not isinstance(story, dict):
        return None, ["the answer is not a JSON object"]
    wrong = [f"{f} is missing or empty" for f in FIELDS if not isinstance(story.get(f), str) or not story[f].strip()]
    if wrong:
        return story, wrong
    ko, en = story["story_ko"].strip(), story["story_en"].strip()
    if not ko.startswith(KO_START):
        wrong.append(f'story_ko must begin with "{KO_START}"')
    if not KO_LENGTH[0] <= len(ko) <= KO_LENGTH[1]:
        wrong.append(f"story_ko has {len(ko)} characters; it should have about 150")
    if not en.startswith(EN_START):
        wrong.append(f'story_en must begin with "{EN_START}"')
    return story, wrong


def _text(resp: Mapping[str, Any]) -> str:
    return "".join(part.get("text", "") for part in resp["output"]["message"]["content"])


def write(runtime: BedrockRuntimeClient, model_id: str, system: str, prompt: str) -> Story:
    """One story through Converse, with one repair try."""
    request = converse_request(model_id, system, prompt)
    resp = runtime.converse(**request)
    used_in, used_out = resp["usage"]["inputTokens"], resp["usage"]["outputTokens"]
    story, wrong = problems(_text(resp))
    if wrong:
        repair = dict(request)
        repair["messages"] = [
            *request["messages"],
            resp["output"]["message"],
            {"role": "user", "content": [{"text": "Please answer again, fixing: " + "; ".join(wrong)}]},
        ]
        resp = runtime.converse(**repair)
        used_in += resp["usage"]["inputTokens"]
        used_out += resp["usage"]["outputTokens"]
        story, wrong = problems(_text(resp))
        if wrong:
            raise StoryRejected("; ".join(wrong))
    if story is None:  # never without something wrong, which raised above
        raise StoryRejected("the answer is not a JSON object")
    return Story(**{f: story[f].strip() for f in FIELDS}, input_tokens=used_in, output_tokens=used_out)
