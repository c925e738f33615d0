"""The catalog review page (/admin/catalog) in headless Chromium against `gallery serve` on the
local stack: an operator approves with the keyboard, rejects with a reason, filters by status
and gender, decides in bulk; the items in DynamoDB and the counts on the page follow."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from gallery import catalog_review
from gallery_local.demo import DEMO
from gallery_local.serve import OPERATOR_PASSWORD, OPERATOR_USER
from gallery_local.stack import TABLET_PASSWORD
from tests.browser.conftest import LAPTOP

pytestmark = pytest.mark.timeout(120)

THEME = "travel"
# portraitId -> (portrait file or None, fields). Ids sort first, so the grid shows them in order.
ITEMS = {
    "0-review-a": ("mona-lisa.jpg", {"status": "PENDING_REVIEW", "gender": "female", "ageBand": "adult"}),
    "0-review-b": ("castiglione.jpg", {"status": "PENDING_REVIEW", "gender": "male", "ageBand": "adult"}),
    "0-review-c": ("kowalievska.jpg", {"status": "PENDING_REVIEW", "gender": "female", "ageBand": "young"}),
    "0-review-d": (
        "bergendahl.jpg",
        {"status": "REJECTED", "reviewReason": "FaceTooSmall", "gender": "male", "ageBand": "senior"},
    ),
    "0-review-e": (None, {"status": "FILTERED", "filterReason": "ContentFiltered", "gender": "male"}),
    "0-review-f": ("straw-hat.jpg", {"status": "PENDING_REVIEW", "gender": "female", "ageBand": "senior"}),
}


@pytest.fixture
def catalog(stack):
    table, s3 = stack.table("CatalogTable"), stack.client("s3")
    for n, (pid, (file, fields)) in enumerate(ITEMS.items()):
        item = {
            "theme": THEME,
            "portraitId": pid,
            "skinTone": ["light", "intermediate", "tan", "brown"][n % 4],
            "titleKo": f"여행자 {n + 1}",
            "titleEn": f"Traveller {n + 1}",
            "storyKo": "먼 옛날, 당신은 비단길을 따라 낙타를 몰았습니다.",
            "storyEn": "Long ago you drove camels along the Silk Road.",
            "prompt": f"portrait of a traveller, oil on canvas, variant {n}",
            **fields,
        }
        if file:
            item["key"] = f"catalog/{THEME}/{pid}.jpg"
            body = (DEMO / "portraits" / file).read_bytes()
            s3.put_object(Bucket=stack.bucket, Key=item["key"], Body=body, ContentType="image/jpeg")
        table.put_item(Item=item)
    yield table
    # No later visit may be matched with a portrait this test approved.
    for pid in ITEMS:
        table.delete_item(Key={"theme": THEME, "portraitId": pid})
        s3.delete_object(Bucket=stack.bucket, Key=f"catalog/{THEME}/{pid}.jpg")


def status_of(table, pid: str) -> dict:
    return table.get_item(Key={"theme": THEME, "portraitId": pid})["Item"]


def card(page, pid: str):
    return page.locator(f'.review-card[data-portrait="{pid}"]')


def focused(page) -> str | None:
    return page.evaluate("() => document.activeElement?.dataset?.portrait || null")


def expect_counts_match(page, table) -> None:
    """The numbers at the top are the table's, per status and among the approved by gender."""
    want = catalog_review.counts(table, [THEME])[THEME]
    expect(page.locator('#counts [data-count="total"] b')).to_have_text(str(want["total"]))
    for status, n in want["status"].items():
        expect(page.locator(f'#counts [data-count="{status}"] b')).to_have_text(str(n))
    genders = " · ".join(f"{g} {n}" for g, n in want["approved"]["gender"].items())
    expect(page.locator('#coverage [data-field="gender"]')).to_have_text(f"Gender: {genders or 'none'}")


def sign_in(open_page, user: str = OPERATOR_USER, password: str = OPERATOR_PASSWORD):
    page = open_page(f"/admin/catalog?theme={THEME}", LAPTOP)
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#signin button[type=submit]")
    return page


def test_an_operator_reviews_with_the_keyboard_filters_and_decides_in_bulk(
    open_page, served, stack, catalog, screenshots
):
    page = sign_in(open_page)
    expect(page.locator("#review")).to_be_visible()
    expect(page.locator('.review-tab[aria-selected="true"]')).to_have_attribute("data-theme", THEME)
    expect(card(page, "0-review-a")).to_have_attribute("data-status", "PENDING_REVIEW")
    expect_counts_match(page, catalog)

    # A card: the portrait (a real image through the role's presigned URL), both languages.
    first = card(page, "0-review-a")
    page.wait_for_function(
        "() => { const i = document.querySelector('.review-card[data-portrait=\"0-review-a\"] img');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    expect(first.locator('.title[lang="ko"]')).to_have_text("여행자 1")
    expect(first.locator('.title[lang="en"]')).to_have_text("Traveller 1")
    expect(first.locator('.story[lang="ko"]')).to_contain_text("비단길")
    expect(first.locator(".prompt")).to_contain_text("Prompt")
    expect(card(page, "0-review-d").locator(".reason")).to_have_text("FaceTooSmall")
    expect(card(page, "0-review-e").locator(".no-image")).to_be_visible()
    expect(card(page, "0-review-e").locator("[data-action=approve]")).to_be_disabled()

    # Only what waits for review, then the keyboard: a approves, the focus moves on.
    page.select_option("#f-status", "PENDING_REVIEW")
    shown = page.locator(".review-card")
    assert set(ITEMS) & set(shown.evaluate_all("cs => cs.map(c => c.dataset.portrait)")) == {
        "0-review-a",
        "0-review-b",
        "0-review-c",
        "0-review-f",
    }
    first.focus()
    page.keyboard.press("a")
    expect(card(page, "0-review-a")).to_have_count(0)  # approved: no longer pending
    assert status_of(catalog, "0-review-a")["status"] == "APPROVED"
    assert status_of(catalog, "0-review-a")["reviewedBy"] == OPERATOR_USER
    page.wait_for_function("() => document.activeElement?.dataset?.portrait === '0-review-b'")
    expect_counts_match(page, catalog)

    # An arrow key moves to the next card; r rejects it with the reason written above.
    page.fill("#reject-reason", "The eyes look painted on")
    card(page, "0-review-b").focus()
    page.keyboard.press("ArrowRight")
    assert focused(page) == "0-review-c"
    page.keyboard.press("r")
    expect(card(page, "0-review-c")).to_have_count(0)
    rejected = status_of(catalog, "0-review-c")
    assert rejected["status"] == "REJECTED" and rejected["reviewReason"] == "The eyes look painted on"
    expect_counts_match(page, catalog)

    # A FILTERED portrait cannot be approved from the keyboard either.
    page.select_option("#f-status", "FILTERED")
    card(page, "0-review-e").focus()
    page.keyboard.press("a")
    expect(page.locator("#toast")).to_contain_text("no usable portrait")
    assert status_of(catalog, "0-review-e")["status"] == "FILTERED"

    # Every status, the men only: select two and approve them together (x selects from the keyboard).
    page.select_option("#f-status", "")
    page.select_option("#f-gender", "male")
    genders = page.locator(".review-card").evaluate_all("cs => cs.map(c => c.querySelector('.facts').textContent)")
    assert genders and all(g.startswith("male") for g in genders)
    card(page, "0-review-b").focus()
    page.keyboard.press("x")
    card(page, "0-review-d").locator(".select").check()
    expect(page.locator("#selected")).to_have_text("2 selected")
    page.click("#approve-selected")
    expect(card(page, "0-review-d")).to_have_attribute("data-status", "APPROVED")
    expect(card(page, "0-review-b")).to_have_attribute("data-status", "APPROVED")
    assert "reviewReason" not in status_of(catalog, "0-review-d")  # the automatic reason no longer applies
    expect(page.locator("#selected")).to_have_text("0 selected")

    # "Approve all shown": the women still waiting, which is only 0-review-f now.
    page.select_option("#f-gender", "female")
    page.select_option("#f-status", "PENDING_REVIEW")
    ids = page.locator(".review-card").evaluate_all("cs => cs.map(c => c.dataset.portrait)")
    assert ids == ["0-review-f"], ids  # nothing else of the theme would be approved
    page.click("#approve-shown")
    expect(page.locator(".review-card")).to_have_count(0)
    expect_counts_match(page, catalog)

    assert {pid: status_of(catalog, pid)["status"] for pid in ITEMS} == {
        "0-review-a": "APPROVED",
        "0-review-b": "APPROVED",
        "0-review-c": "REJECTED",
        "0-review-d": "APPROVED",
        "0-review-e": "FILTERED",
        "0-review-f": "APPROVED",
    }

    page.select_option("#f-gender", "")
    page.select_option("#f-status", "")
    card(page, "0-review-c").focus()
    page.wait_for_function("() => [...document.querySelectorAll('.review-card img')].every(i => i.complete)")
    page.evaluate("() => window.scrollTo(0, 0)")  # the tabs and counts, with the focused card below
    page.screenshot(path=screenshots / "catalog-review.png")


def test_the_review_is_for_operators_only(open_page, served, catalog):
    page = sign_in(open_page, "tablet-2", TABLET_PASSWORD)
    expect(page.locator("#forbidden")).to_be_visible()
    expect(page.locator("#review")).to_be_hidden()
