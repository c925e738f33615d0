"""The catalog workflow on the local stack: statemachine/catalog.asl.json really runs on moto,
the real handlers call the local Bedrock and Polly with their own roles (IAM enforced), and the
automatic review runs the real face engine. Each Retry and Catch path has its own test."""

from __future__ import annotations

import io
import json
import time

import pytest
import soundfile
from PIL import Image

from gallery import catalog_items, catalog_plan
from gallery_local import catalog_store, catalog_workflow
from tests.stack_fixture import CATALOG_PER_THEME


def fresh(theme: str, n: int, skip: int = 0) -> list[catalog_plan.PlannedItem]:
    """Planned items no other test has made: the session's catalog holds the first ones."""
    start = CATALOG_PER_THEME + skip
    return catalog_plan.plan(theme, start + n)[start:]


def run(stack, theme: str, items: list, concurrency: int = 2) -> catalog_workflow.Progress:
    target = catalog_workflow.local_target(stack)
    arn = catalog_workflow.start(target, theme, items, concurrency)
    progress = catalog_workflow.follow(target, arn, theme, [i.portrait_id for i in items], timeout=240)
    progress.arn = arn
    return progress


def item(stack, theme: str, portrait_id: str) -> dict:
    return stack.table("CatalogTable").get_item(Key={"theme": theme, "portraitId": portrait_id}).get("Item")


def invokes(stack) -> list:
    return stack.bedrock.calls_of("InvokeModel")


@pytest.fixture(autouse=True)
def no_bedrock_faults(stack):
    stack.bedrock.clear_faults()
    yield
    stack.bedrock.clear_faults()


@pytest.fixture(autouse=True, scope="module")
def leave_the_catalog_as_it_was(stack):
    """These tests make items the session's other tests must not meet (a review page's
    counts, a visit's choice): what they add is removed afterwards."""
    table = stack.table("CatalogTable")
    before = {(i["theme"], i["portraitId"]) for i in table.scan(ProjectionExpression="theme, portraitId")["Items"]}
    yield
    s3 = stack.client("s3")
    for i in table.scan()["Items"]:
        if (i["theme"], i["portraitId"]) in before:
            continue
        table.delete_item(Key={"theme": i["theme"], "portraitId": i["portraitId"]})
        for key in (i.get("key"), i.get("audioKo"), i.get("audioEn")):
            if key:
                s3.delete_object(Bucket=stack.bucket, Key=key)


def test_a_generation_makes_reviewed_items_with_image_story_and_audio(stack):
    items = fresh("painting", 3)
    before = len(invokes(stack))
    progress = run(stack, "painting", items)
    assert progress.status == "SUCCEEDED", (progress.error, progress.cause)
    assert len(invokes(stack)) - before == 3  # one image per item, nothing drawn twice
    s3 = stack.client("s3")
    for planned in items:
        got = item(stack, "painting", planned.portrait_id)
        assert got["status"] in (catalog_items.PENDING_REVIEW, catalog_items.REJECTED), got
        assert (got["status"] == catalog_items.REJECTED) == bool(got.get("reviewReason"))
        assert (got["gender"], got["ageBand"], got["skinTone"]) == (
            planned.dimensions["gender"],
            planned.dimensions["age"],
            planned.dimensions["skinTone"],
        )
        assert got["modelId"] == "stability.stable-image-core-v1:1" and got["prompt"] == planned.prompt
        assert got["storyKo"].startswith("당신은") and got["storyEn"].startswith("You were")
        assert got["key"] == f"catalog/painting/{planned.portrait_id}.png"
        image = Image.open(io.BytesIO(s3.get_object(Bucket=stack.bucket, Key=got["key"])["Body"].read()))
        # The theme's data file asks Stability for 4:5, which it draws as 896 x 1088.
        assert image.format == "PNG" and (image.width, image.height) == (896, 1088)
        assert (image.width, image.height) == (int(got["width"]), int(got["height"]))
        for language in catalog_items.LANGUAGES:
            audio = s3.get_object(Bucket=stack.bucket, Key=got[f"audio{language.capitalize()}"])
            assert audio["ContentType"] == "audio/mpeg"
            samples, rate = soundfile.read(io.BytesIO(audio["Body"].read()))
            assert len(samples) / rate > 3.0  # a spoken story, seconds long
        assert float(got["costUsd"]) > 0


def test_a_stopped_generation_resumes_without_paying_twice(stack):
    items = fresh("travel", 6)
    target = catalog_workflow.local_target(stack)
    before = len(invokes(stack))
    arn = catalog_workflow.start(target, "travel", items, 1)
    ids = {i.portrait_id for i in items}
    deadline = time.time() + 120
    while time.time() < deadline:
        made = [i for i in catalog_workflow.items_of(target, "travel") if i["portraitId"] in ids]
        if len(made) >= 2:
            break
        time.sleep(0.1)
    stack.client("stepfunctions").stop_execution(executionArn=arn)
    stopped = [i for i in catalog_workflow.items_of(target, "travel") if i["portraitId"] in ids]
    drawn = len(invokes(stack)) - before
    assert 2 <= len(stopped) < len(items) and drawn < len(items)

    progress = run(stack, "travel", items, 3)
    assert progress.status == "SUCCEEDED"
    final = [i for i in catalog_workflow.items_of(target, "travel") if i["portraitId"] in ids]
    assert sorted(i["portraitId"] for i in final) == sorted(ids)  # no duplicates, nothing missing
    assert all(i["status"] != catalog_items.GENERATED for i in final)
    # Every item drawn exactly once over both runs (an image drawn just before the stop is reused).
    assert len(invokes(stack)) - before == len(items)


def test_throttling_beyond_the_sdks_retries_is_retried_by_the_workflow(stack):
    items = fresh("realistic", 1)
    # boto3 itself tries 5 times; the sixth refusal reaches the workflow as ModelBusy.
    stack.bedrock.throttle_next(6)
    progress = run(stack, "realistic", items)
    assert progress.status == "SUCCEEDED"
    assert item(stack, "realistic", items[0].portrait_id)["status"] != catalog_items.FAILED
    failed = [
        e["taskFailedEventDetails"]["error"] for e in stack.history(progress.arn) if "taskFailedEventDetails" in e
    ]
    assert "ModelBusy" in failed
    assert len(stack.bedrock.calls_of(outcome="ThrottlingException")) >= 6


def test_a_content_filter_marks_the_item_filtered_and_is_not_retried(stack):
    items = fresh("animation", 1)
    stack.bedrock.filter_next(1)
    before = len(invokes(stack))
    progress = run(stack, "animation", items)
    assert progress.status == "SUCCEEDED"
    got = item(stack, "animation", items[0].portrait_id)
    assert got["status"] == catalog_items.FILTERED and "Filter reason" in got["filterReason"]
    assert "key" not in got
    assert len(invokes(stack)) - before == 1


def test_a_model_error_marks_the_item_failed_and_a_rerun_makes_it(stack):
    items = fresh("animation", 1, skip=1)
    stack.bedrock.fail_next(1, "ModelErrorException", "The model could not process the request.")
    progress = run(stack, "animation", items)
    assert progress.status == "SUCCEEDED"
    got = item(stack, "animation", items[0].portrait_id)
    assert got["status"] == catalog_items.FAILED and got["error"] == "ModelErrorException"
    assert "could not process" in got["errorCause"]
    assert run(stack, "animation", items).status == "SUCCEEDED"
    assert item(stack, "animation", items[0].portrait_id)["status"] in (
        catalog_items.PENDING_REVIEW,
        catalog_items.REJECTED,
    )


def test_a_legacy_model_is_refused_before_anything_is_spent(stack):
    items = fresh("painting", 1, skip=3)
    base = "stability.stable-image-core-v1:1"
    before = len(stack.bedrock.calls)
    stack.bedrock.lifecycle[base] = "LEGACY"
    try:
        progress = run(stack, "painting", items)
    finally:
        stack.bedrock.lifecycle[base] = "ACTIVE"
    assert progress.status == "FAILED" and progress.error == "ModelUnavailable"
    assert "LEGACY" in progress.cause and "stability.sd3-5-large-v1:0" in progress.cause
    assert stack.bedrock.calls[before:] == []  # no model was called
    assert item(stack, "painting", items[0].portrait_id) is None


def test_the_generate_role_may_call_its_two_models_only(stack):
    role = stack.role_of("CatalogGenerateFunction")
    arn = "arn:aws:bedrock:{}::foundation-model/{}".format(stack.bedrock.region, "stability.stable-image-core-v1:1")
    assert stack.iam.allows(role, "bedrock:InvokeModel", arn)
    other = arn.replace("stable-image-core-v1:1", "stable-image-ultra-v1:1")
    assert not stack.iam.allows(role, "bedrock:InvokeModel", other)
    removed = stack.iam.remove_statement(role, lambda s: "bedrock:InvokeModel" in json.dumps(s.get("Action")))
    try:
        items = fresh("realistic", 1, skip=1)
        progress = run(stack, "realistic", items)
    finally:
        stack.iam.restore_policies(role, removed)
    assert progress.status == "SUCCEEDED"
    got = item(stack, "realistic", items[0].portrait_id)
    assert got["status"] == catalog_items.FAILED and "AccessDenied" in got["errorCause"]


def test_the_catalog_survives_a_restart(stack, tmp_path):
    ddb = stack.client("dynamodb")
    table = stack.names.name("CatalogTable")
    saved = catalog_store.save(stack, tmp_path)
    before = sorted(json.dumps(i, sort_keys=True) for i in ddb.scan(TableName=table)["Items"])
    assert saved == len(before) > 0
    some = json.loads(before[0])
    key = {"theme": some["theme"], "portraitId": some["portraitId"]}
    ddb.delete_item(TableName=table, Key=key)
    image_key = some["key"]["S"]
    original = stack.client("s3").get_object(Bucket=stack.bucket, Key=image_key)["Body"].read()
    stack.client("s3").delete_object(Bucket=stack.bucket, Key=image_key)

    assert catalog_store.load(stack, tmp_path) == saved
    after = sorted(json.dumps(i, sort_keys=True) for i in ddb.scan(TableName=table)["Items"])
    assert after == before
    assert stack.client("s3").get_object(Bucket=stack.bucket, Key=image_key)["Body"].read() == original
