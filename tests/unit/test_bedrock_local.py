"""The local Bedrock runtime, reached by real boto3 clients over loopback, as the catalog reaches it."""

from __future__ import annotations

import base64
import io
import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from PIL import Image

from gallery import bedrock_images, stories
from gallery_local.bedrock_local import BedrockRuntime, choose_portrait, read_prompt

REGION = "us-west-2"
CORE = "stability.stable-image-core-v1:1"
NOVA = "amazon.nova-canvas-v1:0"
TITAN = "amazon.titan-image-generator-v2:0"
HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
PROMPT = (
    "An oil painting portrait of one senior male sea captain from the Netherlands in the 17th century, "
    "light skin, facing the viewer, head and shoulders, eyes open"
)
STORY_PROMPT = (
    "Write the past life of the person in this portrait: a adult female merchant from Korea in the 18th "
    'century. Answer JSON with title_ko, story_ko (about 150 characters, beginning "당신은"), title_en and '
    'story_en (beginning "You were").'
)


@pytest.fixture(scope="module")
def server():
    s = BedrockRuntime().start()
    yield s
    s.stop()


@pytest.fixture
def bedrock(server: BedrockRuntime, monkeypatch: pytest.MonkeyPatch) -> BedrockRuntime:
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(k, v)
    server.clear_faults()
    with server.lock:
        server.calls.clear()
    return server


def runtime(server: BedrockRuntime, retries: int = 1):
    """A plain boto3 client; one attempt unless told, so a fault is seen as the caller sees it."""
    return boto3.client(
        "bedrock-runtime",
        region_name=REGION,
        endpoint_url=server.url,
        config=Config(retries={"total_max_attempts": retries, "mode": "standard"}),
    )


def invoke(client, model_id: str, body: dict) -> dict:
    resp = client.invoke_model(modelId=model_id, body=json.dumps(body), contentType="application/json")
    return json.loads(resp["body"].read())


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    r = excinfo.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Message"]


@pytest.mark.parametrize(
    ("fmt", "ratio", "size", "pil"),
    [("png", "4:5", (896, 1088), "PNG"), ("jpeg", "16:9", (1344, 768), "JPEG"), ("webp", "1:1", (1024, 1024), "WEBP")],
)
def test_stability_draws_the_requested_format_and_ratio(bedrock, fmt, ratio, size, pil) -> None:
    body = {"prompt": PROMPT, "negative_prompt": "text", "aspect_ratio": ratio, "seed": 7, "output_format": fmt}
    out = invoke(runtime(bedrock), CORE, body)
    assert out["seeds"] == [7] and out["finish_reasons"] == [None]
    img = Image.open(io.BytesIO(base64.b64decode(out["images"][0])))
    assert (img.format, img.size) == (pil, size)
    [call] = bedrock.calls
    assert (call.operation, call.model_id, call.outcome, call.output_format) == ("InvokeModel", CORE, "ok", fmt)
    assert call.request["aspect_ratio"] == ratio and call.file.startswith("portraits/")


@pytest.mark.parametrize("model", [NOVA, TITAN, "us." + NOVA])
def test_nova_and_titan_draw_the_requested_size(bedrock, model) -> None:
    body = bedrock_images.image_request(model, PROMPT, "text, watermark", {"nova": {"width": 896, "height": 1152}}, 3)
    out = invoke(runtime(bedrock), model, body)
    assert out["error"] is None and len(out["images"]) == 1
    img = Image.open(io.BytesIO(base64.b64decode(out["images"][0])))
    assert (img.format, img.size) == ("PNG", (896, 1152))


def test_the_catalog_adapter_gets_a_png_through_the_emulator(bedrock) -> None:
    size = {"stability": {"aspect_ratio": "4:5"}}
    data, ext = bedrock_images.generate(runtime(bedrock), CORE, PROMPT, "text", size, 11)
    assert ext == "png" and Image.open(io.BytesIO(data)).size == (896, 1088)


def test_endpoint_from_the_environment(bedrock, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", bedrock.url)
    client = boto3.client("bedrock-runtime", region_name=REGION)
    out = invoke(client, CORE, {"prompt": PROMPT})
    assert out["finish_reasons"] == [None] and len(bedrock.calls) == 1


def test_the_choice_follows_gender_skin_tone_and_age() -> None:
    woman = choose_portrait("A studio portrait photograph of one young female nurse, dark skin, facing the camera")
    man = choose_portrait("An oil painting portrait of one senior male scholar from Italy, light skin")
    assert (woman["gender"], woman["skin"]) == ("female", 5)
    assert (man["gender"], man["age"]) == ("male", "senior")
    traits = read_prompt(PROMPT)
    assert (traits.theme, traits.gender, traits.age, traits.skin) == ("painting", "male", "senior", 1)
    assert read_prompt("one adult female painter, very light skin").gender == "female"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": PROMPT, "style": "anime"}, "style"),
        ({"negative_prompt": "x"}, "prompt"),
        ({"prompt": "x" * 10_001}, "prompt"),
        ({"prompt": PROMPT, "aspect_ratio": "4:3"}, "aspect_ratio"),
        ({"prompt": PROMPT, "seed": 4294967295}, "seed"),
        ({"prompt": PROMPT, "seed": -1}, "seed"),
        ({"prompt": PROMPT, "output_format": "gif"}, "output_format"),
    ],
)
def test_stability_refuses_bad_fields_by_name(bedrock, body, field) -> None:
    with pytest.raises(ClientError) as e:
        invoke(runtime(bedrock), CORE, body)
    code, status, message = error(e)
    assert (code, status) == ("ValidationException", 400) and field in message
    assert [c.outcome for c in bedrock.calls] == ["ValidationException"]


def nova_body(**config) -> dict:
    base = {"width": 1024, "height": 1024, "quality": "standard", "cfgScale": 6.5, "seed": 1, "numberOfImages": 1}
    return {
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {"text": PROMPT, "negativeText": "text, watermark"},
        "imageGenerationConfig": {**base, **config},
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (nova_body(width=1000), "width"),  # not a multiple of 16
        (nova_body(height=304), "height"),
        (nova_body(width=4112), "width"),
        (nova_body(quality="ultra"), "quality"),
        (nova_body(cfgScale=11), "cfgScale"),
        (nova_body(seed=858993460), "seed"),
        (nova_body(numberOfImages=6), "numberOfImages"),
        (nova_body(steps=30), "steps"),
        ({**nova_body(), "taskType": "INPAINTING"}, "taskType"),
        ({**nova_body(), "textToImageParams": {"text": ""}}, "text"),
        ({**nova_body(), "prompt": "x"}, "prompt"),
    ],
)
def test_nova_refuses_bad_fields_by_name(bedrock, body, field) -> None:
    with pytest.raises(ClientError) as e:
        invoke(runtime(bedrock), NOVA, body)
    code, status, message = error(e)
    assert (code, status) == ("ValidationException", 400) and field in message


def test_titan_takes_sides_nova_refuses(bedrock) -> None:
    out = invoke(runtime(bedrock), TITAN, nova_body(width=1000, height=1000))
    assert Image.open(io.BytesIO(base64.b64decode(out["images"][0]))).size == (1000, 1000)


def test_unknown_model_and_wrong_operation(bedrock) -> None:
    client = runtime(bedrock)
    with pytest.raises(ClientError) as e:
        invoke(client, "stability.no-such-model-v9:0", {"prompt": PROMPT})
    assert error(e)[:2] == ("ValidationException", 400) and "model identifier is invalid" in error(e)[2]
    with pytest.raises(ClientError) as e:
        client.converse(modelId=CORE, messages=[{"role": "user", "content": [{"text": "hi"}]}])
    assert error(e)[:2] == ("ValidationException", 400)


def test_filters_as_each_family_reports_them(bedrock) -> None:
    client = runtime(bedrock)
    bedrock.filter_next(2)
    out = invoke(client, CORE, {"prompt": PROMPT, "seed": 5})
    assert out["finish_reasons"] == ["Filter reason: prompt"]
    with pytest.raises(bedrock_images.Filtered, match="blocked by our content filters"):
        bedrock_images.generate(client, NOVA, PROMPT, "text", {"nova": {"width": 512, "height": 512}}, 1)
    assert invoke(client, CORE, {"prompt": PROMPT})["finish_reasons"] == [None]  # the switch ran out
    assert [c.outcome for c in bedrock.calls] == ["filtered", "filtered", "ok"]
    assert bedrock.calls[0].file is None


def test_throttling_is_raised_and_boto3_retries_it(bedrock) -> None:
    bedrock.throttle_next(1)
    with pytest.raises(ClientError) as e:
        invoke(runtime(bedrock), CORE, {"prompt": PROMPT})
    assert error(e)[:2] == ("ThrottlingException", 429)
    bedrock.throttle_next(1)
    out = invoke(runtime(bedrock, retries=3), CORE, {"prompt": PROMPT})  # botocore's own retry
    assert out["finish_reasons"] == [None]
    assert [c.outcome for c in bedrock.calls] == ["ThrottlingException", "ThrottlingException", "ok"]


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ModelNotReadyException", 429),
        ("ServiceUnavailableException", 503),
        ("AccessDeniedException", 403),
        ("ModelTimeoutException", 408),
        ("ModelErrorException", 424),
        ("ServiceQuotaExceededException", 400),
    ],
)
def test_failures_reach_botocore_with_their_name_and_status(bedrock, code, status) -> None:
    bedrock.fail_next(1, code, "told to fail")
    with pytest.raises(ClientError) as e:
        invoke(runtime(bedrock), CORE, {"prompt": PROMPT})
    assert error(e) == (code, status, "told to fail")
    # the modelled exception class too, as callers catch it
    assert type(e.value).__name__ == code
    assert invoke(runtime(bedrock), CORE, {"prompt": PROMPT})["finish_reasons"] == [None]


def test_converse_writes_the_story_the_catalog_asks_for(bedrock) -> None:
    story = stories.write(runtime(bedrock), HAIKU, "You write the short story on the card.", STORY_PROMPT)
    assert story.story_ko.startswith("당신은") and 120 <= len(story.story_ko) <= 200
    assert "조선" in story.story_ko and "상인" in story.story_ko
    assert story.story_en.startswith("You were a merchant in Korea in the 18th century")
    assert story.title_ko and story.title_en
    assert story.input_tokens > 20 and story.output_tokens > 20
    [call] = bedrock.calls  # no repair needed
    assert call.operation == "Converse" and call.request["maxTokens"] == 600


def test_converse_with_a_json_schema_and_plain_text(bedrock) -> None:
    client = runtime(bedrock)
    schema = {"type": "object", "properties": {"title_en": {"type": "string"}, "story_ko": {"type": "string"}}}
    resp = client.converse(
        modelId="us." + HAIKU,
        messages=[{"role": "user", "content": [{"text": "a young male painter from France in the 19th century."}]}],
        inferenceConfig={"maxTokens": 500, "temperature": 0.5},
        outputConfig={
            "textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"schema": json.dumps(schema)}}}
        },
    )
    answer = json.loads(resp["output"]["message"]["content"][0]["text"])
    assert set(answer) == {"title_en", "story_ko"} and answer["story_ko"].startswith("당신은 19세기 프랑스에서 화가로")
    usage = resp["usage"]
    assert resp["stopReason"] == "end_turn" and usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    plain = client.converse(
        modelId=HAIKU, messages=[{"role": "user", "content": [{"text": "a adult male baker from Peru in the 1930s."}]}]
    )
    assert plain["output"]["message"]["content"][0]["text"].startswith("You were a baker in Peru in the 1930s.")
    short = client.converse(
        modelId=HAIKU,
        messages=[{"role": "user", "content": [{"text": "a adult male baker from Peru in the 1930s."}]}],
        inferenceConfig={"maxTokens": 5},
    )
    assert short["stopReason"] == "max_tokens" and short["usage"]["outputTokens"] <= 5


def test_converse_refuses_what_bedrock_refuses(bedrock) -> None:
    client = runtime(bedrock)
    u = {"role": "user", "content": [{"text": "hi"}]}
    for kwargs, words in [
        ({"messages": [{"role": "assistant", "content": [{"text": "hi"}]}]}, "start with a user message"),
        ({"messages": [u, u]}, "alternate"),
        ({"messages": [u], "inferenceConfig": {"temperature": 1.5}}, "temperature"),
    ]:
        with pytest.raises(ClientError) as e:
            client.converse(modelId=HAIKU, **kwargs)
        assert error(e)[:2] == ("ValidationException", 400) and words in error(e)[2]


def test_lifecycle_through_the_control_plane_api(bedrock) -> None:
    control = boto3.client("bedrock", region_name=REGION, endpoint_url=bedrock.url)
    status = control.get_foundation_model(modelIdentifier=CORE)["modelDetails"]["modelLifecycle"]["status"]
    assert status == "ACTIVE"
    bedrock_images.check_model(control, CORE)
    with pytest.raises(bedrock_images.ModelUnavailable, match="LEGACY.*stability.stable-image-core-v1:1"):
        bedrock_images.check_model(control, NOVA)
    with pytest.raises(ClientError) as e:
        control.get_foundation_model(modelIdentifier="stability.nope-v1:0")
    assert error(e)[:2] == ("ResourceNotFoundException", 404)


def test_a_legacy_model_is_refused_for_an_account_that_never_used_it(bedrock) -> None:
    bedrock.refuse_legacy = True
    with pytest.raises(ClientError) as e:
        invoke(runtime(bedrock), NOVA, nova_body())
    code, status, message = error(e)
    assert (code, status) == ("AccessDeniedException", 403) and "Legacy" in message
    assert invoke(runtime(bedrock), CORE, {"prompt": PROMPT})["finish_reasons"] == [None]


def test_the_call_record_counts_every_call(bedrock) -> None:
    client = runtime(bedrock)
    for seed in range(3):
        invoke(client, CORE, {"prompt": PROMPT, "seed": seed})
    client.converse(modelId=HAIKU, messages=[{"role": "user", "content": [{"text": "hello"}]}])
    assert len(bedrock.calls_of("InvokeModel")) == 3 and len(bedrock.calls_of("Converse")) == 1
    assert [c.request["seed"] for c in bedrock.calls_of("InvokeModel")] == [0, 1, 2]
    assert all(c.file for c in bedrock.calls_of("InvokeModel", "ok"))


def test_an_unsigned_request_is_refused(bedrock) -> None:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(f"{bedrock.url}/model/{CORE.replace(':', '%3A')}/invoke", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=5)
    assert e.value.code == 403 and e.value.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert bedrock.calls == []
