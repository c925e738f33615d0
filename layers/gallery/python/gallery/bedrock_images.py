"""Catalog portraits from a Bedrock image model: one adapter per model family, chosen by the
model id, and the model's lifecycle checked before anything is spent.

- Stability on Bedrock (Stable Image Core and Ultra, SD3.5 Large): `prompt`, `negative_prompt`,
  `aspect_ratio`, `seed`, `output_format` -> `images`, `seeds`, `finish_reasons`. A finish reason
  that is not null means no usable image ("Filter reason: prompt", "Filter reason: output
  image", "Inference error").
- Amazon Nova Canvas and Titan Image Generator: `taskType: TEXT_IMAGE`, `textToImageParams`,
  `imageGenerationConfig` -> `images`, `error`. A blocked prompt is a ValidationException ("blocked
  by our content filters"); a blocked image comes back as success with `error` set.

A content filter is an ordinary outcome (the item becomes FILTERED, and is not retried);
throttling and a model that is not ready are retried by the caller (the catalog workflow)."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from gallery.errors import GalleryError

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient

MAX_SEED = 4294967294
STABILITY_RATIOS = ("16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21")


class Filtered(GalleryError):
    """A content filter refused the prompt or the image; the reason says which."""


class ModelUnavailable(GalleryError):
    """The model is legacy, unknown or not active: nothing is spent on it."""


PROFILE_PREFIXES = ("us", "eu", "apac", "global")  # cross-region inference profiles


def base_model(model_id: str) -> str:
    """The foundation model id behind an id, an ARN or an inference profile id."""
    model_id = model_id.rsplit("/", 1)[-1] if model_id.startswith("arn:") else model_id
    head, _, rest = model_id.partition(".")
    return rest if head in PROFILE_PREFIXES and rest else model_id


def image_family(model_id: str) -> str | None:
    """stability | nova | titan, or None for a model that is not one of these image models."""
    base = base_model(model_id)
    if base.startswith("stability."):
        return "stability"
    if base.startswith("amazon.nova-canvas"):
        return "nova"
    if base.startswith("amazon.titan-image"):
        return "titan"
    return None


def family(model_id: str) -> str:
    found = image_family(model_id)
    if found is None:
        raise ModelUnavailable(
            f"{model_id} is not an image model this catalog can use (Stability, Nova Canvas, Titan)."
        )
    return found


def image_request(model_id: str, prompt: str, negative_prompt: str, size: dict, seed: int) -> dict:
    """The InvokeModel body for one portrait."""
    seed = int(seed) % (MAX_SEED + 1)
    if family(model_id) == "stability":
        ratio = size.get("stability", {}).get("aspect_ratio", "1:1")
        if ratio not in STABILITY_RATIOS:
            raise ValueError(f"aspect_ratio {ratio} is not one Stability accepts: {', '.join(STABILITY_RATIOS)}")
        return {
            "prompt": prompt[:10_000],
            "negative_prompt": negative_prompt,
            "aspect_ratio": ratio,
            "seed": seed,
            "output_format": "png",
        }
    dims = size.get("nova", {})
    width, height = int(dims.get("width", 1024)), int(dims.get("height", 1024))
    if width % 16 or height % 16 or not (320 <= width <= 4096 and 320 <= height <= 4096):
        raise ValueError("Nova Canvas and Titan need sides of 320-4096 px in multiples of 16")
    return {
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {"text": prompt[:1024], "negativeText": negative_prompt},
        "imageGenerationConfig": {
            "width": width,
            "height": height,
            "quality": "standard",
            "cfgScale": 6.5,
            # Nova Canvas takes seeds up to 858,993,459, Titan up to 2,147,483,646.
            "seed": seed % (858_993_460 if family(model_id) == "nova" else 2_147_483_647),
            "numberOfImages": 1,
        },
    }


def parse_image_response(model_id: str, body: dict) -> tuple[bytes, str]:
    """(image bytes, extension), or Filtered with the model's own reason."""
    if family(model_id) == "stability":
        reasons = [r for r in body.get("finish_reasons") or [] if r]
        if reasons:
            raise Filtered(str(reasons[0]))
        return base64.b64decode(body["images"][0]), "png"
    if body.get("error"):
        raise Filtered(str(body["error"]))
    return base64.b64decode(body["images"][0]), "png"


def generate(
    runtime: BedrockRuntimeClient, model_id: str, prompt: str, negative_prompt: str, size: dict, seed: int
) -> tuple[bytes, str]:
    """One portrait through InvokeModel. Filtered for a content filter; other ClientErrors
    (throttling, not ready, unavailable) go to the caller, which retries them."""
    request = image_request(model_id, prompt, negative_prompt, size, seed)
    try:
        resp = runtime.invoke_model(
            modelId=model_id, body=json.dumps(request), contentType="application/json", accept="application/json"
        )
    except ClientError as e:
        message = e.response.get("Error", {}).get("Message", "")
        if e.response.get("Error", {}).get("Code") == "ValidationException" and "content filter" in message:
            raise Filtered(message) from None
        raise
    return parse_image_response(model_id, json.loads(resp["body"].read()))


def check_model(bedrock: BedrockClient, model_id: str) -> None:
    """Refuse a model that is not ACTIVE before anything is spent, naming the active ones."""
    base = base_model(model_id)
    family(model_id)
    try:
        details = bedrock.get_foundation_model(modelIdentifier=base)["modelDetails"]
    except ClientError as e:
        raise ModelUnavailable(f"{model_id} is not available here: {e.response['Error'].get('Message', '')}") from None
    lifecycle = details.get("modelLifecycle")
    status = lifecycle["status"] if lifecycle else "ACTIVE"
    if status != "ACTIVE":
        active = active_image_models(bedrock)
        names = ", ".join(active) or "none found"
        raise ModelUnavailable(f"{model_id} is {status}; active image models here: {names}.")


def active_image_models(bedrock: BedrockClient) -> list[str]:
    try:
        models = bedrock.list_foundation_models(byOutputModality="IMAGE")["modelSummaries"]
    except ClientError:
        return []
    out = []
    for m in models:
        try:
            family(m["modelId"])
        except ModelUnavailable:
            continue
        lifecycle = m.get("modelLifecycle")
        if not lifecycle or lifecycle["status"] == "ACTIVE":
            out.append(m["modelId"])
    return sorted(out)
