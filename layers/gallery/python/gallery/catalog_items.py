"""A catalog item: what the catalog workflow writes, operators review and ChoosePortrait reads.

One item per portrait in CatalogTable (key: theme, portraitId), the portrait itself at
`catalog/{theme}/{portraitId}.{ext}` and the story's audio beside it. Field names:

- status: one of STATUSES. GENERATED while the automatic review has not run yet (a run stopped
  there resumes with the review, not a new image); PENDING_REVIEW after the automatic review passed, REJECTED with
  `reviewReason` (automatic or an operator's), FILTERED with `filterReason` (a content filter),
  FAILED with `error`; only APPROVED items are ever chosen for a visitor.
- matching: `gender` (female | male), `ageBand` (young | adult | senior), `skinTone` (one of
  gallery.skin_tone.GROUPS).
- flavour: `country`, `era`, `occupation`.
- the card: `titleKo`, `storyKo`, `titleEn`, `storyEn`; audio `audioKo`, `audioEn` (S3 keys).
- the image: `key`, `contentType`, `width`, `height`, `bytes`.
- provenance and cost: `prompt`, `negativePrompt`, `seed`, `modelId`, `textModelId`,
  `inputTokens`, `outputTokens`, `costUsd` (a string: DynamoDB numbers are Decimals), `generatedAt`,
  `reviewedAt`, `reviewedBy`, `variant`, `planVersion`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key

from gallery import paging

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

GENERATED = "GENERATED"
PENDING_REVIEW = "PENDING_REVIEW"
APPROVED = "APPROVED"
REJECTED = "REJECTED"
FILTERED = "FILTERED"
FAILED = "FAILED"
STATUSES = (GENERATED, PENDING_REVIEW, APPROVED, REJECTED, FILTERED, FAILED)
# An operator decides between these; FILTERED and FAILED items have no usable portrait.
REVIEWABLE = (PENDING_REVIEW, APPROVED, REJECTED)

LANGUAGES = ("ko", "en")
DEFAULT_LANGUAGE = "ko"  # the event's own language; the tablet offers English beside it
AGE_BANDS = ("young", "adult", "senior")
GENDERS = ("female", "male")

EXTENSIONS = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "webp": "image/webp"}


def image_key(theme: str, portrait_id: str, ext: str) -> str:
    return f"catalog/{theme}/{portrait_id}.{ext}"


def audio_key(theme: str, portrait_id: str, language: str) -> str:
    return f"catalog/{theme}/{portrait_id}.{language}.mp3"


def title(item: dict, language: str) -> str:
    """The card's title in a language, falling back to the other one (an item may lack one)."""
    return _localised(item, "title", language)


def story(item: dict, language: str) -> str:
    return _localised(item, "story", language)


def audio(item: dict, language: str) -> str:
    return str(item.get(f"audio{language.capitalize()}") or "")


def _localised(item: dict, field: str, language: str) -> str:
    order = [language] + [lang for lang in LANGUAGES if lang != language]
    for lang in order:
        value = item.get(f"{field}{lang.capitalize()}")
        if value:
            return str(value)
    return str(item.get(field) or "")


def of_theme(catalog_table: Table, theme: str, **kwargs: Any) -> list[dict]:
    """Every item of a theme, all pages of the query (DynamoDB returns at most 1 MB a page);
    kwargs go to Query (a FilterExpression, ConsistentRead)."""
    return list(paging.items(catalog_table.query, KeyConditionExpression=Key("theme").eq(theme), **kwargs))
