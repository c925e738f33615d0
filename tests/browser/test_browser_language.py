"""The visitor's language on every screen: one visitor chooses English on the tablet, the next
한국어; each sees the portrait's title and story in that language, with the right `lang`, on the
tablet, on their display's wall tile and on their phone, which also plays the story's audio
(a presigned URL that must load)."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import numpy as np
import pytest
import requests
import soundfile
from boto3.dynamodb.conditions import Key
from playwright.sync_api import expect

from gallery_local.stack import TABLET_PASSWORD
from tests.browser.conftest import PHONE, TABLET, VISITOR_PHOTO, WALL

pytestmark = pytest.mark.timeout(300)

THEME = "travel"
DISPLAY = 5
WELCOME = {"en": "Who were you in a past life?", "ko": "전생에 나는 누구였을까요?"}
AGREE = {"en": "I agree — let’s start", "ko": "동의해요, 시작할게요"}
DOWNLOAD = {"en": "Download the picture", "ko": "그림 내려받기"}
SCAN = {"en": "Scan to keep it", "ko": "스캔해서 간직하세요"}


def card(portrait_id: str) -> dict:
    """A catalog item's card in both languages, distinct per portrait so that the test knows which
    one it sees, and distinct from the bundled English title and story that stay on the item."""
    return {
        "titleKo": f"여행자 {portrait_id}, 1890년대",
        "storyKo": f"당신은 {portrait_id}에서 먼 길을 떠났어요. 가방 하나와 편지 한 통뿐이었죠.",
        "titleEn": f"The Traveller of {portrait_id}, 1890s",
        "storyEn": f"You left {portrait_id} with one bag and one letter, and never looked back.",
    }


def mp3(seconds: float = 0.6, rate: int = 22050) -> bytes:
    """A short tone as MP3, as Polly would put beside a portrait."""
    t = np.arange(int(seconds * rate)) / rate
    buf = io.BytesIO()
    soundfile.write(buf, (0.3 * np.sin(2 * np.pi * 440 * t)).astype("float32"), rate, format="MP3")
    return buf.getvalue()


OWN = "zz-bilingual"  # the test's own portrait, in case the catalog has none of THEME approved
OWN_IMAGE = Path(__file__).resolve().parents[2] / "local" / "gallery_local" / "demo" / "portraits" / "te-papa.jpg"


@pytest.fixture
def bilingual_catalog(stack):
    """A portrait of THEME in both languages with an audio file per language, approved and with no
    gender, age band or skin tone so that it matches anyone; every other approved portrait of THEME
    gets the same treatment (any of them may be chosen). All put back as they were after."""
    catalog = stack.table("CatalogTable")
    s3 = stack.client("s3")
    approved = [
        item
        for item in catalog.query(KeyConditionExpression=Key("theme").eq(THEME))["Items"]
        if item.get("status") == "APPROVED" and item["portraitId"] != OWN
    ]
    own_key = f"catalog/{THEME}/{OWN}.jpg"
    s3.put_object(Bucket=stack.bucket, Key=own_key, Body=OWN_IMAGE.read_bytes(), ContentType="image/jpeg")
    own = {"theme": THEME, "portraitId": OWN, "key": own_key, "contentType": "image/jpeg", "status": "APPROVED"}
    audio: dict[str, bytes] = {}
    for item in [own, *approved]:
        pid = item["portraitId"]
        fields = dict(card(pid))
        for lang in ("ko", "en"):
            key = f"catalog/{THEME}/{pid}.{lang}.mp3"
            audio[key] = mp3(0.5 if lang == "ko" else 0.7)
            s3.put_object(Bucket=stack.bucket, Key=key, Body=audio[key], ContentType="audio/mpeg")
            fields[f"audio{lang.capitalize()}"] = key
        catalog.put_item(Item={**item, **fields})
    try:
        yield audio
    finally:
        catalog.delete_item(Key={"theme": THEME, "portraitId": OWN})
        s3.delete_object(Bucket=stack.bucket, Key=own_key)
        for item in approved:
            catalog.put_item(Item=item)
        for key in audio:
            s3.delete_object(Bucket=stack.bucket, Key=key)


def sign_in(open_page):
    page = open_page("/tablet?countdown=0&reset=0", TABLET)
    page.fill("#username", f"tablet-{DISPLAY}")
    page.fill("#password", TABLET_PASSWORD)
    page.click("#signin-button")
    expect(page.locator("#welcome")).to_be_visible()
    return page


def finished_visit(stack, visit_id: str, timeout: float = 90) -> dict:
    """The visit's item once it is final (and, when DONE, on the wall with its view token)."""
    deadline = time.time() + timeout
    item: dict = {}
    while time.time() < deadline:
        item = stack.table("VisitsTable").get_item(Key={"visitId": visit_id}).get("Item") or {}
        if item.get("status") in ("REJECTED", "FAILED") or (item.get("status") == "DONE" and item.get("viewToken")):
            break
        time.sleep(0.2)
    assert item.get("status") == "DONE", {k: item.get(k) for k in ("status", "reason", "message", "cause")}
    return item


def one_visit(tablet, wall, open_page, served, stack, audio: dict[str, bytes], lang: str, screenshots) -> None:
    # The welcome screen always starts in Korean; the visitor's choice turns every word.
    expect(tablet.locator("html")).to_have_attribute("lang", "ko")
    expect(tablet.locator("#lang-ko")).to_have_attribute("aria-pressed", "true")
    tablet.click(f"#lang-{lang}")
    expect(tablet.locator(f"#lang-{lang}")).to_have_attribute("aria-pressed", "true")
    expect(tablet.locator("html")).to_have_attribute("lang", lang)
    expect(tablet.locator("#welcome h1")).to_have_text(WELCOME[lang])
    expect(tablet.locator("#agree")).to_have_text(AGREE[lang])
    tablet.screenshot(path=screenshots / f"tablet-language-{lang}.png")
    tablet.click("#agree")
    tablet.click(f'.theme[data-theme="{THEME}"]')
    tablet.click("#theme-next")
    expect(tablet.locator("#camera")).to_be_visible()
    tablet.set_input_files("#file", str(VISITOR_PHOTO))
    tablet.click("#use-photo")
    expect(tablet.locator("body")).to_have_attribute("data-visit", re.compile(r"^[0-9a-f]{32}$"))
    visit_id = tablet.locator("body").get_attribute("data-visit")
    item = finished_visit(stack, visit_id)
    expect(tablet.locator("body")).to_have_attribute("data-status", "done")
    assert item["language"] == lang
    expected = card(item["portraitId"])
    suffix = lang.capitalize()
    title, story = expected[f"title{suffix}"], expected[f"story{suffix}"]
    audio_key = f"catalog/{THEME}/{item['portraitId']}.{lang}.mp3"
    assert (item["title"], item["story"], item.get("audioKey")) == (title, story, audio_key)

    # The tablet's result view.
    expect(tablet.locator("#result-title")).to_have_text(title)
    expect(tablet.locator("#result-title")).to_have_attribute("lang", lang)
    expect(tablet.locator("#result-story")).to_have_text(story)
    expect(tablet.locator("#result-story")).to_have_attribute("lang", lang)

    # The wall tile of the tablet's display.
    tile = wall.locator(f'.tile[data-display="{DISPLAY}"]')
    expect(tile).to_have_attribute("data-view", item["viewToken"], timeout=30000)
    expect(tile.locator(".title")).to_have_text(title)
    expect(tile.locator(".story")).to_have_text(story)
    expect(tile.locator(".caption")).to_have_attribute("lang", lang)
    expect(tile.locator(".scan")).to_have_text(SCAN[lang])

    # The visitor's phone, from the private link the tablet shows them.
    link = tablet.locator("#owner-link").get_attribute("href")
    assert link.startswith(f"{served.urls.base}/v/#owner={item['visitId']}.")
    phone = open_page(link.replace(served.urls.base, ""), PHONE)
    expect(phone.locator("body")).to_have_attribute("data-state", "portrait")
    expect(phone.locator("html")).to_have_attribute("lang", lang)
    expect(phone.locator("#title")).to_have_text(title)
    expect(phone.locator("#title")).to_have_attribute("lang", lang)
    expect(phone.locator("#story")).to_have_text(story)
    expect(phone.locator("#story")).to_have_attribute("lang", lang)
    expect(phone.locator("#download")).to_have_text(DOWNLOAD[lang])
    expect(phone.locator("#listen")).to_be_visible()
    # The player loads the story's audio: the browser reads its length from the signed URL.
    phone.wait_for_function("() => document.querySelector('#audio').duration > 0", timeout=15000)
    src = phone.locator("#audio").get_attribute("src")
    assert audio_key in src and "X-Amz-Signature=" in src
    got = requests.get(src, timeout=10)
    assert got.status_code == 200 and got.content == audio[audio_key]
    phone.screenshot(path=screenshots / f"visitor-{lang}.png", full_page=True)


def test_each_visitor_reads_their_portrait_in_the_language_they_chose(
    open_page, served, stack, bilingual_catalog, screenshots
):
    wall = open_page(f"/wall?displays={DISPLAY}&poll=300", WALL)
    expect(wall.locator("#conn")).to_have_attribute("data-state", "connected")
    tablet = sign_in(open_page)

    one_visit(tablet, wall, open_page, served, stack, bilingual_catalog, "en", screenshots)
    tablet.click("#next")  # the next visitor starts in Korean again
    expect(tablet.locator("#welcome")).to_be_visible()
    one_visit(tablet, wall, open_page, served, stack, bilingual_catalog, "ko", screenshots)
