"""Amazon Bedrock, locally: the runtime's REST API (`InvokeModel`, `Converse`) on loopback.

moto's bedrock-runtime answers InvokeModel with `{}` and has no Converse, and moto's `bedrock`
control plane has no GetFoundationModel; so this server speaks the real paths itself, and an
unchanged boto3 client reaches it through `endpoint_url` (or `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`,
and `AWS_ENDPOINT_URL_BEDROCK` for the lifecycle):

- `POST /model/{modelId}/invoke`: image models. Stability (`stability.*`) and Nova Canvas /
  Titan Image Generator (`amazon.nova-canvas*`, `amazon.titan-image*`) bodies are checked field by
  field as Bedrock documents them; a bad one is a ValidationException naming the field.
- `POST /model/{modelId}/converse`: any text model; offline it writes the story from templates.
- `GET /foundation-models/{id}` and `GET /foundation-models`: the model lifecycle (ACTIVE or
  LEGACY) from `LIFECYCLE`, for the check made before anything is spent.

Errors have botocore's shape: the HTTP status, an `x-amzn-ErrorType` header and a
`{"message": ...}` body, so boto3 raises the same ClientError it raises against AWS (and retries
throttling as it does there).

Offline "drawing": the prompt's theme, gender, age and skin tone words choose one of the bundled
demo portraits (`demo/catalog.json`), which is cropped to the requested size or aspect ratio and
encoded in the requested format. The bundled manifest tags gender only on the paintings and no
skin tone at all, so `TRAITS` below holds those judged by eye from the pictures; two are
black-and-white photographs, whose skin tone is a guess. Nine pictures cannot cover every
cell: the choice is the closest one, and `calls` records which it was.

Every call is recorded in `calls` (operation, model id, parsed request, outcome, chosen file),
so tests can count model calls. Fault switches: `throttle_next`, `filter_next`, `fail_next`,
`refuse_legacy`; `clear_faults()` resets them."""

from __future__ import annotations

import base64
import io
import json
import math
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from PIL import Image

from gallery.bedrock_images import base_model, image_family  # facts about Bedrock's model ids
from gallery_local.http_util import LoopbackService, QuietHandler

DEMO = Path(__file__).resolve().parent / "demo"

# HTTP status per error name, from botocore's bedrock-runtime model.
ERROR_STATUS = {
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "ModelTimeoutException": 408,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
    "ValidationException": 400,
    "ServiceQuotaExceededException": 400,
    "ModelNotReadyException": 429,
    "ThrottlingException": 429,
    "ModelErrorException": 424,
}

STABILITY_RATIOS = {
    # Bedrock's Stability models answer about one megapixel at each ratio.
    "1:1": (1024, 1024),
    "16:9": (1344, 768),
    "21:9": (1536, 640),
    "2:3": (832, 1216),
    "3:2": (1216, 832),
    "4:5": (896, 1088),
    "5:4": (1088, 896),
    "9:16": (768, 1344),
    "9:21": (640, 1536),
}
STABILITY_FIELDS = {"prompt", "negative_prompt", "aspect_ratio", "seed", "output_format", "mode", "image", "strength"}
STABILITY_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
MAX_STABILITY_SEED = 4294967294
NOVA_SEED_MAX = {"nova": 858993459, "titan": 2147483646}
NOVA_CONFIG_FIELDS = {"width", "height", "quality", "cfgScale", "seed", "numberOfImages"}

# The lifecycle as checked in us-west-2, November 2026 (Titan Image Generator v2 reached end of
# life on 2026-06-30; Nova Canvas was marked legacy in 2026).
LIFECYCLE: dict[str, str] = {
    "stability.stable-image-core-v1:1": "ACTIVE",
    "stability.stable-image-ultra-v1:1": "ACTIVE",
    "stability.sd3-5-large-v1:0": "ACTIVE",
    "amazon.nova-canvas-v1:0": "LEGACY",
    "amazon.titan-image-generator-v2:0": "LEGACY",
    "amazon.titan-image-generator-v1": "LEGACY",
    "anthropic.claude-haiku-4-5-20251001-v1:0": "ACTIVE",
    "amazon.nova-2-lite-v1:0": "ACTIVE",
}
_PROVIDERS = {"stability": "Stability AI", "amazon": "Amazon", "anthropic": "Anthropic"}

# What the bundled portraits show, judged by eye: (gender, age band, skin tone 0..5 on the
# catalog's scale very light, light, intermediate, tan, brown, dark).
TRAITS: dict[str, tuple[str, str, int]] = {
    "mona-lisa": ("female", "adult", 1),
    "castiglione": ("male", "adult", 1),
    "straw-hat": ("female", "young", 0),
    "creationhill": ("male", "young", 3),
    "kowalievska": ("female", "young", 5),
    "te-papa": ("female", "adult", 1),  # black-and-white photograph
    "huron-gaol": ("male", "senior", 1),  # black-and-white photograph
    "suzyhazelwood": ("female", "young", 1),  # black-and-white photograph
    "bergendahl": ("male", "adult", 1),
}
SKIN_TONES = ("very light", "light", "intermediate", "tan", "brown", "dark")


class BedrockError(Exception):
    """An error answered in botocore's shape."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _invalid(message: str) -> BedrockError:
    return BedrockError("ValidationException", message)


@dataclass
class Call:
    """One request the emulator answered (or refused)."""

    operation: str  # InvokeModel | Converse
    model_id: str
    request: dict
    outcome: str = "ok"  # ok | filtered | the error name
    file: str | None = None  # the bundled portrait chosen
    size: tuple[int, int] | None = None
    output_format: str | None = None
    text: str | None = None


@dataclass
class _Faults:
    throttle: int = 0
    filter: int = 0
    fail: list[tuple[str, str]] = field(default_factory=list)


# ---------------------------------------------------------------------------- choosing a portrait


@dataclass
class PromptTraits:
    theme: str | None
    gender: str | None
    age: str | None
    skin: int | None


def read_prompt(prompt: str) -> PromptTraits:
    """The theme, gender, age band and skin tone that a catalog prompt asks for."""
    p = prompt.lower()
    theme = None
    for name, words in (
        ("animation", r"animation|animated|cartoon|anime|illustration"),
        ("painting", r"painting|painted|oil on canvas"),
        ("travel", r"travel|traveller|traveler"),
        ("realistic", r"photograph|photo|realistic"),
    ):
        if re.search(rf"\b({words})\b", p):
            theme = name
            break
    gender = None
    if re.search(r"\b(female|woman|girl|lady)\b", p):
        gender = "female"
    elif re.search(r"\b(male|man|boy|gentleman)\b", p):
        gender = "male"
    age = None
    if re.search(r"\b(senior|elderly|old|aged)\b", p):
        age = "senior"
    elif re.search(r"\b(young|child|teen|teenage|youth)\b", p):
        age = "young"
    elif re.search(r"\b(adult|middle-aged)\b", p):
        age = "adult"
    skin = None
    m = re.search(r"\b(very light|light|intermediate|tan|brown|dark)\s+skin", p)
    if m:
        skin = SKIN_TONES.index(m.group(1))
    return PromptTraits(theme, gender, age, skin)


def _portraits() -> list[dict]:
    entries = json.loads((DEMO / "catalog.json").read_text())
    out = []
    for e in entries:
        gender, age, skin = TRAITS.get(e["portraitId"], (e.get("gender", "any"), e.get("ageBand", "adult"), 2))
        out.append(
            {"id": e["portraitId"], "file": e["file"], "theme": e["theme"], "gender": gender, "age": age, "skin": skin}
        )
    return out


def choose_portrait(prompt: str, seed: int = 0) -> dict:
    """The bundled portrait closest to what the prompt asks for: gender first, then skin tone, age
    band and theme (a face that fits the visitor matters more for the swap than the picture's
    style, and nine pictures cannot cover every style); the seed picks among equals, so two
    variants of one cell can differ."""
    want = read_prompt(prompt)

    def score(p: dict) -> float:
        s = 0.0
        if want.gender and p["gender"] == want.gender:
            s += 20
        if want.skin is not None:
            s += 3 * (5 - abs(p["skin"] - want.skin))  # one step of tone outweighs age and theme
        if want.age and p["age"] == want.age:
            s += 2
        if want.theme and p["theme"] == want.theme:
            s += 1
        return s

    portraits = _portraits()
    best = max(score(p) for p in portraits)
    tied = sorted((p for p in portraits if score(p) == best), key=lambda p: p["id"])
    return tied[seed % len(tied)]


def render(file: str, width: int, height: int, fmt: str) -> bytes:
    """The portrait cropped to width:height (centred across, kept near the top, where faces
    are), scaled to width x height and encoded as fmt (JPEG, PNG or WEBP)."""
    with Image.open(DEMO / file) as src:
        img = src.convert("RGB")
    w, h = img.size
    target = width / height
    if w / h > target:
        cw = round(h * target)
        box = ((w - cw) // 2, 0, (w - cw) // 2 + cw, h)
    else:
        ch = round(w / target)
        top = (h - ch) // 5
        box = (0, top, w, top + ch)
    img = img.crop(box).resize((width, height), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format=fmt, **({"quality": 90} if fmt in ("JPEG", "WEBP") else {}))
    return buf.getvalue()


# ---------------------------------------------------------------------------- request validation


def _malformed(detail: str) -> BedrockError:
    return _invalid(f"Malformed input request: {detail}, please reformat your input and try again.")


def _check_type(name: str, value: Any, kind: type | tuple[type, ...]) -> Any:
    """`value`, when it is of `kind` (bool is no int here); a malformed request otherwise."""
    if isinstance(value, bool) or not isinstance(value, kind):
        raise _malformed(f"{name} has the wrong type")
    return value


def parse_stability(body: dict) -> dict:
    """A Stability text-to-image body, checked; defaults filled in."""
    for key in body:
        if key not in STABILITY_FIELDS:
            raise _malformed(f"extraneous key [{key}] is not permitted")
    if "prompt" not in body:
        raise _malformed("required key [prompt] not found")
    _check_type("prompt", body["prompt"], str)
    if not 1 <= len(body["prompt"]) <= 10_000:
        raise _malformed("prompt must be 1 to 10000 characters")
    negative = body.get("negative_prompt", "")
    _check_type("negative_prompt", negative, str)
    if len(negative) > 10_000:
        raise _malformed("negative_prompt must be at most 10000 characters.")
    ratio = body.get("aspect_ratio", "1:1")
    if ratio not in STABILITY_RATIOS:
        raise _invalid(
            f"Malformed input request: aspect_ratio must be one of {', '.join(STABILITY_RATIOS)}, got {ratio!r}."
        )
    seed = body.get("seed", 0)
    _check_type("seed", seed, int)
    if not 0 <= seed <= MAX_STABILITY_SEED:
        raise _invalid(f"Malformed input request: seed must be between 0 and {MAX_STABILITY_SEED}, got {seed}.")
    fmt = body.get("output_format", "png")
    if fmt not in STABILITY_FORMATS:
        raise _invalid(f"Malformed input request: output_format must be one of jpeg, png, webp, got {fmt!r}.")
    if body.get("mode", "text-to-image") != "text-to-image" or "image" in body or "strength" in body:
        raise _invalid(
            "Malformed input request: the local Bedrock runtime draws text-to-image only (mode, image, strength)."
        )
    return {
        "prompt": body["prompt"],
        "negative_prompt": negative,
        "aspect_ratio": ratio,
        "seed": seed,
        "output_format": fmt,
    }


def parse_nova(family: str, body: dict) -> dict:
    """A Nova Canvas / Titan TEXT_IMAGE body, checked; defaults filled in."""
    for key in body:
        if key not in ("taskType", "textToImageParams", "imageGenerationConfig"):
            raise _invalid(f"Malformed input request: extraneous key [{key}] is not permitted")
    if body.get("taskType") != "TEXT_IMAGE":
        raise _malformed(f"taskType must be TEXT_IMAGE here, got {body.get('taskType')!r}.")
    params = body.get("textToImageParams")
    if not isinstance(params, dict):
        raise _invalid("Malformed input request: required key [textToImageParams] not found")
    for key in params:
        if key not in ("text", "negativeText", "style"):
            raise _invalid(f"Malformed input request: #/textToImageParams: extraneous key [{key}] is not permitted.")
    text = _check_type("textToImageParams.text", params.get("text"), str)
    if not 1 <= len(text) <= 1024:
        raise _invalid("Malformed input request: #/textToImageParams/text: expected length between 1 and 1024.")
    negative = params.get("negativeText")
    if negative is not None:
        _check_type("textToImageParams.negativeText", negative, str)
        if not 3 <= len(negative) <= 1024:
            raise _invalid(
                "Malformed input request: #/textToImageParams/negativeText: expected length between 3 and 1024."
            )
    config = body.get("imageGenerationConfig", {})
    _check_type("imageGenerationConfig", config, dict)
    for key in config:
        if key not in NOVA_CONFIG_FIELDS:
            raise _invalid(
                f"Malformed input request: #/imageGenerationConfig: extraneous key [{key}] is not permitted."
            )
    width, height = config.get("width", 1024), config.get("height", 1024)
    for name, side in (("width", width), ("height", height)):
        _check_type(f"imageGenerationConfig.{name}", side, int)
        if not 320 <= side <= 4096:
            raise _invalid(
                f"Malformed input request: #/imageGenerationConfig/{name}: {side} is not between 320 and 4096."
            )
        if family == "nova" and side % 16:
            raise _invalid(f"Malformed input request: #/imageGenerationConfig/{name}: {side} is not a multiple of 16.")
    if width * height > 4_194_304:
        raise _invalid("Malformed input request: the image must have at most 4,194,304 pixels.")
    if max(width, height) / min(width, height) > 4:
        raise _invalid("Malformed input request: the aspect ratio must be between 1:4 and 4:1.")
    quality = config.get("quality", "standard")
    if quality not in ("standard", "premium"):
        raise _invalid(
            f"Malformed input request: #/imageGenerationConfig/quality: {quality!r} is not standard or premium."
        )
    cfg = config.get("cfgScale", 6.5)
    _check_type("imageGenerationConfig.cfgScale", cfg, (int, float))
    if not 1.1 <= cfg <= 10:
        raise _invalid(f"Malformed input request: #/imageGenerationConfig/cfgScale: {cfg} is not between 1.1 and 10.")
    seed = config.get("seed", 12)
    _check_type("imageGenerationConfig.seed", seed, int)
    if not 0 <= seed <= NOVA_SEED_MAX[family]:
        raise _invalid(
            f"Malformed input request: #/imageGenerationConfig/seed: {seed} is not in 0..{NOVA_SEED_MAX[family]}."
        )
    count = config.get("numberOfImages", 1)
    _check_type("imageGenerationConfig.numberOfImages", count, int)
    if not 1 <= count <= 5:
        raise _invalid(
            f"Malformed input request: #/imageGenerationConfig/numberOfImages: {count} is not between 1 and 5."
        )
    return {
        "text": text,
        "negativeText": negative,
        "width": width,
        "height": height,
        "quality": quality,
        "cfgScale": cfg,
        "seed": seed,
        "numberOfImages": count,
    }


def parse_converse(body: dict) -> dict:
    """The parts of a Converse body the story writer reads, checked as Bedrock checks them."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _invalid("The messages field is required and must hold at least one message.")
    if messages[0].get("role") != "user":
        raise _invalid(
            "A conversation must start with a user message. "
            "Try again with a conversation that starts with a user message."
        )
    for before, after in zip(messages, messages[1:], strict=False):
        if before.get("role") == after.get("role"):
            raise _invalid(
                "A conversation must alternate between user and assistant roles. "
                "Make sure the conversation alternates between user and assistant roles and try again."
            )
    for m in messages:
        if m.get("role") not in ("user", "assistant") or not m.get("content"):
            raise _invalid("Each message needs a role (user or assistant) and non-empty content.")
    config = body.get("inferenceConfig") or {}
    max_tokens = config.get("maxTokens", 4096)
    if not isinstance(max_tokens, int) or max_tokens < 1:
        raise _invalid("The value at inferenceConfig.maxTokens must be at least 1.")
    temperature = config.get("temperature", 1.0)
    if not 0 <= temperature <= 1:
        raise _invalid(f"The value at inferenceConfig.temperature must be between 0 and 1, got {temperature}.")
    schema = None
    text_format = (body.get("outputConfig") or {}).get("textFormat")
    if text_format:
        raw = ((text_format.get("structure") or {}).get("jsonSchema") or {}).get("schema")
        if not isinstance(raw, str):
            raise _invalid("outputConfig.textFormat.structure.jsonSchema.schema is not a valid JSON schema.")
        try:
            schema = json.loads(raw)
        except (TypeError, ValueError):
            raise _invalid("outputConfig.textFormat.structure.jsonSchema.schema is not a valid JSON schema.") from None
    system = " ".join(s.get("text", "") for s in body.get("system") or [])
    last = " ".join(c.get("text", "") for c in messages[-1]["content"] if isinstance(c, dict))
    every = system + " " + " ".join(c.get("text", "") for m in messages for c in m["content"] if isinstance(c, dict))
    return {
        "system": system,
        "prompt": last,
        "all_text": every,
        "maxTokens": max_tokens,
        "temperature": temperature,
        "schema": schema,
    }


# ---------------------------------------------------------------------------- stories

_KO = {
    "Italy": "이탈리아",
    "the Netherlands": "네덜란드",
    "France": "프랑스",
    "Spain": "스페인",
    "Korea": "조선",
    "Japan": "일본",
    "Persia": "페르시아",
    "Ethiopia": "에티오피아",
    "the United States": "미국",
    "Brazil": "브라질",
    "Nigeria": "나이지리아",
    "India": "인도",
    "Sweden": "스웨덴",
    "Mexico": "멕시코",
    "Egypt": "이집트",
    "Mongolia": "몽골",
    "Morocco": "모로코",
    "Peru": "페루",
    "Norway": "노르웨이",
    "Vietnam": "베트남",
    "Kenya": "케냐",
    "Scotland": "스코틀랜드",
    "Turkey": "튀르키예",
    "a seaside town": "바닷가 마을",
    "a mountain village": "산골 마을",
    "a space station": "우주 정거장",
    "a desert city": "사막 도시",
    "a forest kingdom": "숲의 왕국",
    "a rainy metropolis": "비 내리는 대도시",
    "the 16th century": "16세기",
    "the 17th century": "17세기",
    "the 18th century": "18세기",
    "the 19th century": "19세기",
    "the 1920s": "1920년대",
    "the 1950s": "1950년대",
    "the 1970s": "1970년대",
    "the 1990s": "1990년대",
    "the 1890s": "1890년대",
    "the 1910s": "1910년대",
    "the 1930s": "1930년대",
    "the 1960s": "1960년대",
    "a storybook past": "동화 속 옛날",
    "the present day": "오늘날",
    "the far future": "먼 미래",
    "merchant": "상인",
    "court musician": "궁정 악사",
    "scholar": "학자",
    "painter": "화가",
    "sea captain": "선장",
    "silk weaver": "비단 짜는 장인",
    "teacher": "교사",
    "engineer": "기술자",
    "baker": "제빵사",
    "pilot": "비행사",
    "nurse": "간호사",
    "jazz singer": "재즈 가수",
    "explorer": "탐험가",
    "caravan trader": "대상 무역상",
    "mountain guide": "산악 안내인",
    "cartographer": "지도 제작자",
    "fisher": "어부",
    "railway worker": "철도원",
    "inventor": "발명가",
    "detective": "탐정",
    "starship pilot": "우주선 조종사",
    "wizard's apprentice": "마법사의 제자",
    "rock drummer": "록 드러머",
}
_SUBJECT = re.compile(r"\ba (?:(young|adult|senior) )?(?:(female|male) )?(.+?) (?:from|in) (.+?) in (.+?)[.,:;]")


def _subject(text: str) -> dict:
    m = _SUBJECT.search(text)
    if not m:
        return {"occupation": "traveller", "country": "a faraway land", "era": "a time long ago"}
    return {"occupation": m.group(3), "country": m.group(4), "era": m.group(5)}


def _ro(word: str) -> str:
    """The particle 로/으로 after a Korean word: 으로 after a final consonant other than ㄹ."""
    last = word[-1:] or "가"
    if not "\uac00" <= last <= "\ud7a3":
        return "(으)로"
    final = (ord(last) - 0xAC00) % 28
    return "으로" if final not in (0, 8) else "로"


def story_ko(s: dict) -> str:
    ko = {k: _KO.get(v, v) for k, v in s.items()}
    sentences = [
        f"당신은 {ko['era']} {ko['country']}에서 {ko['occupation']}{_ro(ko['occupation'])} 살았습니다.",
        "새벽마다 누구보다 먼저 일어나 하루를 준비했고, 이웃들은 당신의 성실함을 믿었습니다.",
        "힘든 날에도 웃음을 잃지 않았고, 당신이 남긴 작은 친절은 오래도록 이야기로 전해졌습니다.",
        "그리고 어느 날, 한 화가가 그 얼굴을 그림으로 남겼습니다.",
    ]
    out = ""
    for sentence in sentences:
        if len(out) >= 130:
            break
        out = f"{out} {sentence}".strip()
    return out


def story_en(s: dict) -> str:
    return (
        f"You were a {s['occupation']} in {s['country']} in {s['era']}. You rose before everyone else, your "
        "neighbours trusted your word, and the small kindnesses you left behind were told as stories long after."
    )


def _field_text(name: str, s: dict) -> str:
    n = name.lower()
    korean = n.endswith(("_ko", "ko")) or "korean" in n
    if "story" in n:
        return story_ko(s) if korean else story_en(s)
    if "title" in n:
        occ = s["occupation"]
        return (
            f"{_KO.get(s['country'], s['country'])}의 {_KO.get(occ, occ)}"
            if korean
            else f"The {occ.title()} of {s['country']}"
        )
    return f"{s['occupation']}, {s['country']}, {s['era']}"


def write_story(request: dict) -> str:
    """The offline answer: JSON with the fields asked for (by schema or by name in the prompt),
    or plain text."""
    # The subject is in the user's prompt; the system prompt describes the card, not the person.
    s = _subject(request["prompt"] or request["all_text"])
    fields: list[str] = []
    if request["schema"]:
        fields = list((request["schema"].get("properties") or {}).keys())
    elif "json" in request["all_text"].lower():
        fields = list(
            dict.fromkeys(re.findall(r"\b((?:title|story)_[a-z]{2})\b", request["prompt"] or request["all_text"]))
        )
    if fields:
        return json.dumps({f: _field_text(f, s) for f in fields}, ensure_ascii=False)
    return story_en(s)


def tokens(text: str) -> int:
    """A token estimate: about four characters of Latin script, or one Hangul syllable, a token."""
    hangul = sum(1 for ch in text if "\uac00" <= ch <= "\ud7a3")
    return max(1, hangul + math.ceil((len(text) - hangul) / 4))


# ---------------------------------------------------------------------------- the server


class _Handler(QuietHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        self.server.app.handle(self, "POST")

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self.server.app.handle(self, "GET")


class BedrockRuntime(LoopbackService):
    """The local Bedrock runtime (and the lifecycle part of the control plane)."""

    def __init__(self, port: int = 0) -> None:
        self.calls: list[Call] = []
        self.lifecycle: dict[str, str] = dict(LIFECYCLE)
        self.refuse_legacy = False  # True: as for an account that never used a legacy model
        # Set by the local stack: checks the caller's SigV4 signature and IAM permission as AWS
        # does, (method, url, headers, body, action, resources) -> None or PermissionError.
        self.authorize: Callable[[str, str, dict, bytes, str, list[str]], None] | None = None
        self.region, self.account_id = "us-east-1", "123456789012"
        self.lock = threading.Lock()
        self._faults = _Faults()
        super().__init__(_Handler, port)

    @property
    def url(self) -> str:
        return self.server.url

    # fault switches
    def throttle_next(self, n: int = 1) -> None:
        """The next n model calls get ThrottlingException (429)."""
        with self.lock:
            self._faults.throttle = n

    def filter_next(self, n: int = 1) -> None:
        """The next n image calls are blocked by the content filter, as each family reports it."""
        with self.lock:
            self._faults.filter = n

    def fail_next(self, n: int = 1, code: str = "ServiceUnavailableException", message: str | None = None) -> None:
        """The next n model calls fail with `code` (any name in ERROR_STATUS)."""
        if code not in ERROR_STATUS:
            raise ValueError(f"unknown Bedrock error {code}")
        with self.lock:
            self._faults.fail = [(code, message or f"{code} (local fault)")] * n

    def clear_faults(self) -> None:
        with self.lock:
            self._faults = _Faults()
            self.refuse_legacy = False

    def calls_of(self, operation: str | None = None, outcome: str | None = None) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if (operation in (None, c.operation)) and (outcome in (None, c.outcome))]

    # dispatch
    def handle(self, h: QuietHandler, method: str) -> None:
        path = urlsplit(h.path).path
        parts = path.strip("/").split("/")
        try:
            if h.headers.get("Authorization", "").split(" ", 1)[0] != "AWS4-HMAC-SHA256":
                raise BedrockError("AccessDeniedException", "Missing Authentication Token")
            raw = h.body() if method == "POST" else b""
            self._check_caller(h, method, parts, raw)
            if method == "GET" and parts[0] == "foundation-models":
                answer = self._models(unquote(parts[1]) if len(parts) > 1 else None, parse_qs(urlsplit(h.path).query))
            elif method == "POST" and len(parts) == 3 and parts[0] == "model" and parts[2] in ("invoke", "converse"):
                model_id = unquote(parts[1])
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    raise _invalid("Malformed input request: the body is not JSON.") from None
                if not isinstance(body, dict):
                    raise _invalid("Malformed input request: the body must be a JSON object.")
                answer = self._invoke(model_id, body) if parts[2] == "invoke" else self._converse(model_id, body)
            else:
                raise BedrockError("ResourceNotFoundException", f"No route for {method} {path}")
        except BedrockError as e:
            payload = json.dumps({"message": e.message}).encode()
            h.reply(
                ERROR_STATUS[e.code],
                payload,
                headers={"x-amzn-ErrorType": e.code, "x-amzn-RequestId": str(uuid.uuid4())},
            )
            return
        h.reply(200, json.dumps(answer, ensure_ascii=False).encode(), headers={"x-amzn-RequestId": str(uuid.uuid4())})

    def resources(self, model_id: str) -> list[str]:
        """What IAM checks for a call to a model: an inference profile and the model it routes to."""
        base = base_model(model_id)
        model = f"arn:aws:bedrock:{self.region}::foundation-model/{base}"
        if base == model_id:
            return [model]
        return [f"arn:aws:bedrock:{self.region}:{self.account_id}:inference-profile/{model_id}", model]

    def _check_caller(self, h: QuietHandler, method: str, parts: list[str], body: bytes) -> None:
        if self.authorize is None:
            return
        if parts[0] == "foundation-models" and len(parts) > 1:
            action, resources = "bedrock:GetFoundationModel", self.resources(unquote(parts[1]))
        elif parts[0] == "foundation-models":
            action, resources = "bedrock:ListFoundationModels", ["*"]
        elif parts[0] == "model" and len(parts) == 3:
            # Converse is authorised as InvokeModel.
            action, resources = "bedrock:InvokeModel", self.resources(unquote(parts[1]))
        else:
            return
        try:
            self.authorize(method, self.url + h.path, dict(h.headers), body, action, resources)
        except PermissionError as e:
            raise BedrockError("AccessDeniedException", str(e)) from None

    def _record(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    def _gate(self, call: Call) -> None:
        """Model checks and the fault switches, in the order Bedrock meets them."""
        base = base_model(call.model_id)
        status = self.lifecycle.get(base)
        try:
            if status is None:
                raise _invalid("The provided model identifier is invalid.")
            if status == "LEGACY" and self.refuse_legacy:
                raise BedrockError(
                    "AccessDeniedException",
                    "This Model is marked by provider as Legacy and you have not been actively using the model in the "
                    "last 30 days. Please upgrade to an active model on Amazon Bedrock",
                )
            with self.lock:
                fault = None
                if self._faults.throttle > 0:
                    self._faults.throttle -= 1
                    fault = ("ThrottlingException", "Too many requests, please wait before trying again.")
                elif self._faults.fail:
                    fault = self._faults.fail.pop(0)
            if fault:
                raise BedrockError(*fault)
        except BedrockError as e:
            call.outcome = e.code
            self._record(call)
            raise

    def _take_filter(self) -> bool:
        with self.lock:
            if self._faults.filter > 0:
                self._faults.filter -= 1
                return True
        return False

    def _invoke(self, model_id: str, body: dict) -> dict:
        call = Call("InvokeModel", model_id, body)
        family = image_family(model_id)
        if family is None and base_model(model_id) in self.lifecycle:
            call.outcome = "ValidationException"
            self._record(call)
            raise _invalid(
                "The local Bedrock runtime answers InvokeModel for image models only; use Converse for text."
            )
        self._gate(call)
        if family is None:  # never: _gate refuses an unknown model, and a known one without images was refused above
            raise _invalid("The provided model identifier is invalid.")
        try:
            request = parse_stability(body) if family == "stability" else parse_nova(family, body)
        except BedrockError as e:
            call.outcome = e.code
            self._record(call)
            raise
        call.request = request
        if self._take_filter():
            call.outcome = "filtered"
            self._record(call)
            if family == "stability":
                return {"seeds": [request["seed"]], "finish_reasons": ["Filter reason: prompt"], "images": [None]}
            raise _invalid(
                "This request has been blocked by our content filters. "
                "Please adjust your text prompt to submit a new request."
            )
        prompt = request["prompt"] if family == "stability" else request["text"]
        chosen = choose_portrait(prompt, request["seed"])
        if family == "stability":
            width, height = STABILITY_RATIOS[request["aspect_ratio"]]
            fmt = request["output_format"]
        else:
            width, height, fmt = request["width"], request["height"], "png"
        image = base64.b64encode(render(chosen["file"], width, height, STABILITY_FORMATS[fmt])).decode()
        call.file, call.size, call.output_format = chosen["file"], (width, height), fmt
        self._record(call)
        if family == "stability":
            return {"seeds": [request["seed"]], "finish_reasons": [None], "images": [image]}
        return {"images": [image] * request["numberOfImages"], "error": None}

    def _converse(self, model_id: str, body: dict) -> dict:
        call = Call("Converse", model_id, body)
        if image_family(model_id):
            call.outcome = "ValidationException"
            self._record(call)
            raise _invalid("This model doesn't support the Converse operation.")
        self._gate(call)
        try:
            request = parse_converse(body)
        except BedrockError as e:
            call.outcome = e.code
            self._record(call)
            raise
        started = time.monotonic()
        text = write_story(request)
        stop = "end_turn"
        if tokens(text) > request["maxTokens"]:
            stop = "max_tokens"
            while text and tokens(text) > request["maxTokens"]:
                text = text[: max(0, len(text) - 8)]
        used_in, used_out = tokens(request["all_text"]), tokens(text)
        call.request, call.text = {k: v for k, v in request.items() if k != "all_text"}, text
        self._record(call)
        return {
            "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
            "stopReason": stop,
            "usage": {"inputTokens": used_in, "outputTokens": used_out, "totalTokens": used_in + used_out},
            "metrics": {"latencyMs": int((time.monotonic() - started) * 1000)},
        }

    def _models(self, model_id: str | None, query: dict) -> dict:
        def details(mid: str) -> dict:
            provider = mid.split(".", 1)[0]
            image = image_family(mid) is not None
            return {
                "modelArn": f"arn:aws:bedrock:us-west-2::foundation-model/{mid}",
                "modelId": mid,
                "modelName": mid,
                "providerName": _PROVIDERS.get(provider, provider),
                "inputModalities": ["TEXT"],
                "outputModalities": ["IMAGE" if image else "TEXT"],
                "inferenceTypesSupported": ["ON_DEMAND"],
                "modelLifecycle": {"status": self.lifecycle[mid]},
            }

        if model_id is None:
            wanted = query.get("byOutputModality", [None])[0]
            summaries = [details(m) for m in sorted(self.lifecycle)]
            return {"modelSummaries": [m for m in summaries if wanted in (None, *m["outputModalities"])]}
        base = base_model(model_id)
        if base not in self.lifecycle:
            raise BedrockError("ResourceNotFoundException", f"Could not find model {model_id}.")
        return {"modelDetails": details(base)}
