"""One catalog item, made: the portrait from a Bedrock image model, its story in Korean and
English from a text model, the story as audio from Polly, then the automatic review.

The catalog workflow (statemachine/catalog.asl.json) runs these steps for every planned item.
They are safe to run again: an item that already has its portrait is not drawn (or paid for)
a second time, so a generation stopped half-way resumes where it stopped."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from PIL import Image

from gallery import bedrock_images, catalog_items, catalog_plan, portrait_review, stories
from gallery.contracts import CatalogModels, GeneratedItem, PlannedItem, ReviewedItem

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_polly import PollyClient
    from mypy_boto3_polly.literals import EngineType, VoiceIdType
    from mypy_boto3_rekognition import RekognitionClient
    from mypy_boto3_s3 import S3Client

# Bedrock's answers that mean "not now": the workflow retries them with backoff and jitter.
BUSY = {
    "ThrottlingException",
    "ModelNotReadyException",
    "ServiceUnavailableException",
    "ModelTimeoutException",
    "ServiceQuotaExceededException",
}
VOICES: dict[str, tuple[VoiceIdType, EngineType]] = {"ko": ("Seoyeon", "neural"), "en": ("Joanna", "neural")}


class ModelBusy(Exception):
    """Bedrock or Polly asked to slow down or was not ready; the workflow retries the item."""


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seed_of(portrait_id: str) -> int:
    """The same item always gets the same seed: a re-run draws the same picture."""
    return int(hashlib.sha256(portrait_id.encode()).hexdigest(), 16) % (bedrock_images.MAX_SEED + 1)


def check_models(bedrock: BedrockClient, image_model: str, text_model: str) -> CatalogModels:
    """Both models ACTIVE here, before anything is spent (ModelUnavailable otherwise)."""
    bedrock_images.check_model(bedrock, image_model)
    try:
        details = bedrock.get_foundation_model(modelIdentifier=bedrock_images.base_model(text_model))["modelDetails"]
    except ClientError as e:
        raise bedrock_images.ModelUnavailable(
            f"{text_model} is not available here: {e.response['Error'].get('Message', '')}"
        ) from None
    lifecycle = details.get("modelLifecycle")
    status = lifecycle["status"] if lifecycle else "ACTIVE"
    if status != "ACTIVE":
        raise bedrock_images.ModelUnavailable(f"{text_model} is {status}; choose an active text model.")
    return {"imageModel": image_model, "textModel": text_model}


def _busy(e: ClientError) -> bool:
    return e.response.get("Error", {}).get("Code") in BUSY


def _cost(image_model: str, text_model: str, images: int, tokens_in: int, tokens_out: int) -> Decimal:
    prices = catalog_plan.load_prices()
    image = prices["images"].get(bedrock_images.base_model(image_model)) or prices["images"].get(image_model) or {}
    text = prices["text"].get(text_model) or prices["text"].get(bedrock_images.base_model(text_model)) or {}
    cost = images * image.get("perImage", 0.0)
    cost += tokens_in / 1000 * text.get("per1kInput", 0.0) + tokens_out / 1000 * text.get("per1kOutput", 0.0)
    return Decimal(str(round(cost, 6)))


def _existing_image(s3: S3Client, bucket: str, theme: str, portrait_id: str) -> tuple[str, bytes] | None:
    """A portrait drawn by an earlier run that stopped before its item was written."""
    for ext in ("png", "jpeg", "webp"):
        key = catalog_items.image_key(theme, portrait_id, ext)
        try:
            return key, s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as e:
            # Without s3:ListBucket (which would let the role list visitors' keys), S3 answers
            # a missing object with AccessDenied; a real permission problem shows at the put.
            if e.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404", "AccessDenied"):
                raise
    return None


def generate_item(
    runtime: BedrockRuntimeClient,
    polly: PollyClient,
    s3: S3Client,
    catalog: Table,
    bucket: str,
    planned: PlannedItem,
    image_model: str,
    text_model: str,
) -> GeneratedItem:
    """Make one planned item (catalog_plan.PlannedItem as a dict). Returns {portraitId, status}."""
    theme, portrait_id = planned["theme"], planned["portraitId"]
    key = {"theme": theme, "portraitId": portrait_id}
    existing = catalog.get_item(Key=key, ConsistentRead=True).get("Item")
    if existing and existing.get("status") != catalog_items.FAILED:
        return {"portraitId": portrait_id, "status": str(existing["status"]), "resumed": True}
    spec = catalog_plan.load_theme(theme)
    dims = planned["dimensions"]
    item: dict = {
        **key,
        "gender": dims["gender"],
        "ageBand": dims["age"],
        "skinTone": dims["skinTone"],
        "country": dims["country"],
        "era": dims["era"],
        "occupation": dims["occupation"],
        "variant": int(planned["variant"]),
        "planVersion": int(spec.get("version", 1)),
        "prompt": planned["prompt"],
        "negativePrompt": planned["negativePrompt"],
        "seed": seed_of(portrait_id),
        "modelId": image_model,
        "textModelId": text_model,
        "generatedAt": now(),
    }
    try:
        drawn = _existing_image(s3, bucket, theme, portrait_id)
        images_paid = 0
        if drawn is None:
            try:
                data, ext = bedrock_images.generate(
                    runtime, image_model, planned["prompt"], planned["negativePrompt"], spec["size"], item["seed"]
                )
            except bedrock_images.Filtered as e:
                item.update(
                    status=catalog_items.FILTERED,
                    filterReason=str(e)[:500],
                    costUsd=_cost(image_model, text_model, 1, 0, 0),
                )
                catalog.put_item(Item=item)
                return {"portraitId": portrait_id, "status": catalog_items.FILTERED}
            images_paid = 1
            image_key = catalog_items.image_key(theme, portrait_id, ext)
            s3.put_object(Bucket=bucket, Key=image_key, Body=data, ContentType=catalog_items.EXTENSIONS[ext])
        else:
            image_key, data = drawn
        story = stories.write(runtime, text_model, spec["story"]["system"], planned["storyPrompt"])
        item.update(
            titleKo=story.title_ko,
            storyKo=story.story_ko,
            titleEn=story.title_en,
            storyEn=story.story_en,
            inputTokens=story.input_tokens,
            outputTokens=story.output_tokens,
        )
        for language, text in (("ko", story.story_ko), ("en", story.story_en)):
            voice, engine = VOICES[language]
            audio = polly.synthesize_speech(Text=text, VoiceId=voice, Engine=engine, OutputFormat="mp3")
            audio_key = catalog_items.audio_key(theme, portrait_id, language)
            s3.put_object(Bucket=bucket, Key=audio_key, Body=audio["AudioStream"].read(), ContentType="audio/mpeg")
            item[f"audio{language.capitalize()}"] = audio_key
    except ClientError as e:
        if _busy(e):
            raise ModelBusy(f"{e.response['Error']['Code']}: {e.response['Error'].get('Message', '')}") from None
        raise
    width, height = Image.open(io.BytesIO(data)).size
    item.update(
        key=image_key,
        contentType=catalog_items.EXTENSIONS[image_key.rsplit(".", 1)[1]],
        width=width,
        height=height,
        bytes=len(data),
        costUsd=_cost(image_model, text_model, images_paid, story.input_tokens, story.output_tokens),
        status=catalog_items.GENERATED,
    )
    catalog.put_item(Item=item)
    return {"portraitId": portrait_id, "status": catalog_items.GENERATED}


def review_item(
    rekognition: RekognitionClient, s3: S3Client, catalog: Table, bucket: str, theme: str, portrait_id: str
) -> ReviewedItem:
    """The automatic review of a GENERATED item: PENDING_REVIEW for an operator, or REJECTED
    with the reason. An item already reviewed (a retried step) is left as it is."""
    key = {"theme": theme, "portraitId": portrait_id}
    item: dict[str, Any] | None = catalog.get_item(Key=key, ConsistentRead=True).get("Item")
    if not item or item.get("status") != catalog_items.GENERATED:
        return {"portraitId": portrait_id, "status": (item or {}).get("status", "MISSING")}
    data = s3.get_object(Bucket=bucket, Key=item["key"])["Body"].read()
    status, reason = portrait_review.review(rekognition, data)
    values: dict = {":s": status, ":g": catalog_items.GENERATED, ":at": now()}
    update = "SET #s = :s, reviewedAt = :at, reviewedBy = :by"
    values[":by"] = "automatic review"
    if reason:
        update += ", reviewReason = :r"
        values[":r"] = reason
    try:
        catalog.update_item(
            Key=key,
            UpdateExpression=update,
            ConditionExpression="#s = :g",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=values,
        )
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
    reviewed: ReviewedItem = {"portraitId": portrait_id, "status": status}
    if reason:
        reviewed["reason"] = reason
    return reviewed


def lanes(items: list[PlannedItem], concurrency: int) -> list[list[PlannedItem]]:
    """The workflow's input: the items dealt round-robin into `concurrency` lanes. The outer Map
    runs the lanes side by side and each lane's inner Map (MaxConcurrency 1) one item at a time,
    so at most `concurrency` items are drawn at once, chosen per run (in JSONPath a Map's own
    MaxConcurrency is fixed in the definition)."""
    n = max(1, min(int(concurrency), len(items) or 1))
    return [items[i::n] for i in range(n)]
