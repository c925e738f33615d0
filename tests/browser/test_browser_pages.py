"""The four pages in headless Chromium against `gallery serve` on the local stack: a visit from a
tablet (file picker and fake camera) reaches the right wall tile through the subscription; the
wall survives a dead socket and a failing backend; operators reset and refresh tiles; a visitor
deletes everything; a rejected photo offers a retake."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from gallery_local.serve import OPERATOR_PASSWORD, OPERATOR_USER
from gallery_local.stack import TABLET_PASSWORD
from gallery_local.tablet import Tablet
from tests.browser.conftest import LAPTOP, PHONE, TABLET, VISITOR_PHOTO, WALL, no_face_jpeg

pytestmark = pytest.mark.timeout(120)


def tile(page, display: int | str):
    return page.locator(f'.tile[data-display="{display}"]')


def open_wall(open_page, displays: str = "1-8", poll: float = 300):
    """A wall whose 10 s poll is stretched (or shortened) so each test knows which path updated it."""
    page = open_page(f"/wall?displays={displays}&poll={poll}", WALL)
    expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    return page


def sign_in_tablet(open_page, display: int):
    page = open_page("/tablet?countdown=0&reset=0", TABLET)
    page.fill("#username", f"tablet-{display}")
    page.fill("#password", TABLET_PASSWORD)
    page.click("#signin-button")
    expect(page.locator("#welcome")).to_be_visible()
    expect(page.locator("#display-chip")).to_have_text(f"Display {display}")
    return page


def to_camera(page, theme: str = "painting"):
    page.click("#agree")
    page.click(f'.theme[data-theme="{theme}"]')
    page.click("#theme-next")
    expect(page.locator("#camera")).to_be_visible()


def visit_id_of(page) -> str:
    expect(page.locator("body")).to_have_attribute("data-visit", re.compile(r"^[0-9a-f]{32}$"))
    return page.locator("body").get_attribute("data-visit")


def view_token(stack, visit_id: str, timeout: float = 60) -> str:
    """The view token the wall's tile shows for a visit (the wall never learns the visit id)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        item = stack.table("VisitsTable").get_item(Key={"visitId": visit_id}).get("Item") or {}
        if item.get("viewToken"):
            return item["viewToken"]
        time.sleep(0.2)
    raise AssertionError(f"visit {visit_id} got no view token")


def test_tablet_upload_from_the_file_picker_reaches_its_tile_through_the_subscription(
    open_page, served, stack, screenshots
):
    wall = open_wall(open_page)
    tablet = sign_in_tablet(open_page, 1)
    tablet.screenshot(path=screenshots / "tablet-consent.png")
    tablet.click("#agree")
    tablet.click('.theme[data-theme="painting"]')
    tablet.screenshot(path=screenshots / "tablet-theme.png")
    tablet.click("#theme-next")
    tablet.set_input_files("#file", str(VISITOR_PHOTO))
    expect(tablet.locator("#review")).to_be_visible()
    tablet.click("#use-photo")
    visit_id = visit_id_of(tablet)
    uploaded = time.monotonic()

    # The wall polls only every 300 s here: the tile can only change through the subscription.
    token = view_token(stack, visit_id)
    expect(tile(wall, 1)).to_have_attribute("data-view", token, timeout=10000)
    assert time.monotonic() - uploaded < 10
    expect(tile(wall, 1)).to_have_attribute("data-source", "subscription")
    expect(tile(wall, 1)).to_have_attribute("data-status", "DONE")
    expect(tile(wall, 1).locator(".qr svg")).to_be_visible()
    expect(tile(wall, 1).locator(".art")).to_have_attribute("src", re.compile(rf"wall/{token}\.png"))
    assert tile(wall, 1).locator(".title").inner_text().strip()
    assert tile(wall, 2).get_attribute("data-view") != token  # only the right tile

    expect(tablet.locator("body")).to_have_attribute("data-status", "done", timeout=30000)
    expect(tablet.locator("#result")).to_have_attribute("src", re.compile(rf"results/{visit_id}\.png"))
    expect(tablet.locator("#next")).to_be_visible()
    tablet.screenshot(path=screenshots / "tablet-done.png")
    wall.wait_for_function(
        "id => [...document.querySelectorAll('.tile .art')].every(i => i.complete && i.naturalWidth > 0)", arg=None
    )
    wall.screenshot(path=screenshots / "wall.png")

    # The tablet resets itself for the next visitor.
    tablet.click("#next")
    expect(tablet.locator("#welcome")).to_be_visible()
    expect(tablet.locator("#file")).to_have_value("")


def test_tablet_fake_camera_visit_reaches_its_tile(open_page, served, stack, screenshots):
    wall = open_wall(open_page, "2")
    tablet = sign_in_tablet(open_page, 2)
    to_camera(tablet, "travel")
    expect(tablet.locator("#shutter")).to_be_enabled()
    tablet.screenshot(path=screenshots / "tablet-camera.png")
    tablet.click("#shutter")
    expect(tablet.locator("#review")).to_be_visible()
    tablet.click("#use-photo")
    visit_id = visit_id_of(tablet)
    expect(tile(wall, 2)).to_have_attribute("data-view", view_token(stack, visit_id), timeout=10000)
    expect(tile(wall, 2)).to_have_attribute("data-source", "subscription")
    expect(tablet.locator("body")).to_have_attribute("data-status", "done", timeout=30000)
    # The camera frame is what was uploaded: a portrait-sized JPEG from the fake device.
    item = stack.table("VisitsTable").get_item(Key={"visitId": visit_id})["Item"]
    assert item["status"] == "DONE" and item["theme"] == "travel" and item["displayId"] == "2"
    wall.wait_for_function("() => document.querySelector('.tile .art').naturalWidth > 0")
    wall.screenshot(path=screenshots / "wall-single-display.png")


def test_a_rejected_photo_shows_the_reason_and_a_retake(open_page, served, tmp_path, screenshots):
    photo = tmp_path / "landscape.jpg"
    photo.write_bytes(no_face_jpeg())
    tablet = sign_in_tablet(open_page, 3)
    tablet.click("#lang-en")  # the refusal below is checked in English
    to_camera(tablet)
    tablet.set_input_files("#file", str(photo))
    tablet.click("#use-photo")
    expect(tablet.locator("body")).to_have_attribute("data-status", "rejected", timeout=30000)
    expect(tablet.locator("#reason")).to_have_text("We couldn't see a face. Please look at the camera.")
    expect(tablet.locator("#retake")).to_be_visible()
    tablet.screenshot(path=screenshots / "tablet-rejected.png")
    tablet.click("#retake")
    expect(tablet.locator("#camera")).to_be_visible()


def test_polling_updates_the_tile_when_the_socket_is_killed(open_page, served, stack):
    wall = open_wall(open_page, "1-8", poll=1)
    served.realtime.refuse()  # new handshakes fail too: the socket stays dead
    served.realtime.drop_connections()
    expect(wall.locator("#conn")).to_have_attribute("data-state", "reconnecting")
    visit = Tablet(stack, 5).visit(VISITOR_PHOTO.read_bytes(), "animation")
    assert visit.status == "DONE"
    expect(tile(wall, 5)).to_have_attribute("data-view", view_token(stack, visit.visit_id), timeout=10000)
    expect(tile(wall, 5)).to_have_attribute("data-source", "poll")
    expect(wall.locator("#conn")).to_have_attribute("data-state", "reconnecting")
    # The endpoint comes back: the wall reconnects by itself and is live again.
    served.realtime.refuse(False)
    expect(wall.locator("#conn")).to_have_attribute("data-state", "connected", timeout=15000)


def test_five_failed_fetches_show_the_default_image_then_the_tile_recovers(open_page, served, stack, screenshots):
    visit = Tablet(stack, 6).visit(VISITOR_PHOTO.read_bytes(), "realistic")
    assert visit.status == "DONE"
    wall = open_wall(open_page, "5-8", poll=0.4)
    six = tile(wall, 6)
    token = view_token(stack, visit.visit_id)
    expect(six).to_have_attribute("data-view", token)
    failures = []

    def fail(route):
        failures.append(route.request.url)
        route.fulfill(status=503, body='{"message":"Service Unavailable"}', content_type="application/json")

    wall.route(re.compile(r".*/displays$"), fail)
    expect(six).to_have_attribute("data-fallback", "true", timeout=15000)
    assert len(failures) >= 5
    expect(six).to_have_attribute("data-failures", re.compile(r"^([5-9]|\d\d+)$"))
    expect(six.locator(".art")).to_have_attribute("src", "/img/default.svg")
    expect(six.locator(".qr")).to_be_hidden()
    wall.screenshot(path=screenshots / "wall-backend-down.png")

    wall.unroute(re.compile(r".*/displays$"))
    expect(six).to_have_attribute("data-fallback", "false", timeout=10000)
    expect(six).to_have_attribute("data-status", "DONE")
    expect(six.locator(".art")).to_have_attribute("src", re.compile(rf"wall/{token}\.png"))


def sign_in_admin(open_page, user: str = OPERATOR_USER, password: str = OPERATOR_PASSWORD):
    page = open_page("/admin", LAPTOP)
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#signin button[type=submit]")
    return page


def test_admin_resets_one_tile_and_all_tiles_and_refreshes(open_page, served, stack, screenshots):
    visits = {d: Tablet(stack, d).visit(VISITOR_PHOTO.read_bytes(), "painting") for d in (3, 4)}
    assert all(v.status == "DONE" for v in visits.values())
    assert Tablet(stack, 5).visit(no_face_jpeg(), "painting").status == "REJECTED"  # the list shows why
    wall = open_wall(open_page)
    for d, v in visits.items():
        expect(tile(wall, d)).to_have_attribute("data-view", view_token(stack, v.visit_id))
    admin = sign_in_admin(open_page)
    expect(admin.locator("#console")).to_be_visible()
    expect(admin.locator("#conn")).to_have_attribute("data-state", "connected")

    # Recent visits: status, error, a link to each execution.
    row = admin.locator(f'tr[data-visit="{visits[4].visit_id}"]')
    expect(row).to_have_attribute("data-status", "DONE")
    rejected = admin.locator('tr[data-status="REJECTED"]').first
    expect(rejected.locator(".why")).to_contain_text("NoFaceDetected")
    admin.wait_for_function("() => document.querySelector('.dcard .thumb').complete")
    admin.screenshot(path=screenshots / "admin.png", full_page=True)
    with admin.context.expect_page() as execution:
        row.locator("a.execution").click()
    execution.value.wait_for_load_state()
    expect(execution.value.locator("body")).to_contain_text("SUCCEEDED")
    expect(execution.value.locator("body")).to_contain_text("PublishDisplay")

    # Force a refresh: the stored state is published again, with a new time, to every wall.
    before = tile(wall, 4).get_attribute("data-updated-at")
    admin.locator('.dcard[data-display="4"] [data-action=refresh]').click()
    expect(tile(wall, 4)).not_to_have_attribute("data-updated-at", before)
    expect(tile(wall, 4)).to_have_attribute("data-view", view_token(stack, visits[4].visit_id))
    expect(tile(wall, 4)).to_have_attribute("data-source", "subscription")

    # Reset one tile: only that tile goes back to the default image.
    admin.locator('.dcard[data-display="3"] [data-action=reset]').click()
    expect(tile(wall, 3)).to_have_attribute("data-status", "DEFAULT")
    expect(tile(wall, 3).locator(".art")).to_have_attribute("src", "/img/default.svg")
    expect(tile(wall, 4)).to_have_attribute("data-status", "DONE")
    assert stack.table("DisplaysTable").get_item(Key={"displayId": "3"})["Item"]["status"] == "DEFAULT"

    # Reset all tiles.
    admin.click("#reset-all")
    for d in range(1, 9):
        expect(tile(wall, d)).to_have_attribute("data-status", "DEFAULT")
    assert {i["status"] for i in stack.table("DisplaysTable").scan()["Items"] if int(i["displayId"]) <= 8} == {
        "DEFAULT"
    }
    wall.screenshot(path=screenshots / "wall-reset.png")


def test_admin_is_for_operators_only(open_page, served):
    page = sign_in_admin(open_page, "tablet-1", TABLET_PASSWORD)
    expect(page.locator("#forbidden")).to_be_visible()
    expect(page.locator("#console")).to_be_hidden()


def test_the_visitor_deletes_every_object_and_item(open_page, served, stack, screenshots):
    visit = Tablet(stack, 7).visit(VISITOR_PHOTO.read_bytes(), "travel", language="en")
    assert visit.status == "DONE"
    token = view_token(stack, visit.visit_id)
    s3 = stack.client("s3")
    keys = [f"uploads/7/{visit.visit_id}.jpg", f"faces/{visit.visit_id}.png", f"results/{visit.visit_id}.png"]
    for key in keys + [f"wall/{token}.png"]:
        s3.head_object(Bucket=stack.bucket, Key=key)  # all there before
    wall = open_wall(open_page, "7")
    expect(tile(wall, 7)).to_have_attribute("data-view", token)

    # The visitor's private link, as the tablet hands it over (secret in the fragment).
    phone = open_page(f"/v/#owner={visit.visit_id}.{visit.owner_secret}", PHONE)
    expect(phone.locator("body")).to_have_attribute("data-state", "portrait")
    expect(phone.locator("#title")).not_to_be_empty()
    expect(phone.locator("#story")).not_to_be_empty()
    phone.wait_for_function("() => document.querySelector('#image').naturalWidth > 0")
    phone.screenshot(path=screenshots / "visitor.png", full_page=True)
    with phone.expect_download() as download:
        phone.click("#download")
    assert download.value.suggested_filename.endswith(".png")

    phone.click("#delete")
    phone.click("#confirm-delete")
    expect(phone.locator("body")).to_have_attribute("data-state", "deleted")
    expect(phone.locator("#deleted")).to_contain_text("gone")
    phone.screenshot(path=screenshots / "visitor-deleted.png")

    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=stack.bucket).get("Contents", [])]
    assert not [k for k in listed if visit.visit_id in k or token in k]
    assert "Item" not in stack.table("VisitsTable").get_item(Key={"visitId": visit.visit_id})
    display = stack.table("DisplaysTable").get_item(Key={"displayId": "7"}).get("Item")
    assert display is None or display.get("visitId") != visit.visit_id
    # The wall's next poll no longer shows the portrait.
    wall.evaluate("() => window.galleryWall.poll()")
    expect(tile(wall, 7)).to_have_attribute("data-status", "DEFAULT")
    expect(tile(wall, 7)).to_have_attribute("data-view", "")


def test_the_walls_qr_link_views_but_cannot_delete(open_page, served, stack):
    visit = Tablet(stack, 3).visit(VISITOR_PHOTO.read_bytes(), "painting")
    assert visit.status == "DONE"
    token = view_token(stack, visit.visit_id)
    wall = open_wall(open_page, "3")
    expect(tile(wall, 3)).to_have_attribute("data-view", token)
    # What a phone reads from the tile's QR code.
    link = tile(wall, 3).locator(".qr").get_attribute("data-link")
    assert token in link and visit.visit_id not in link and link.split("#")[0].endswith("/v/")
    assert visit.visit_id not in wall.content()

    phone = open_page(link.replace(served.urls.base, ""), PHONE)
    expect(phone.locator("body")).to_have_attribute("data-state", "portrait")
    expect(phone.locator("body")).to_have_attribute("data-mode", "view")
    phone.wait_for_function("() => document.querySelector('#image').naturalWidth > 0")
    expect(phone.locator("#delete")).to_be_hidden()
    expect(phone.locator("#viewer-note")).to_be_visible()
    assert visit.visit_id not in phone.content()
    # A forged DELETE from that page, with everything it knows, is refused.
    statuses = phone.evaluate(
        """async (token) => {
            const cfg = await (await fetch('/config.json')).json();
            const tries = [
              fetch(`${cfg.apiUrl}/visits/${token}`, { method: 'DELETE' }),
              fetch(`${cfg.apiUrl}/views/${token}`, { method: 'DELETE' }),
            ];
            return Promise.all(tries.map((p) => p.then((r) => r.status)));
        }""",
        token,
    )
    assert all(code >= 400 for code in statuses), statuses
    assert stack.table("VisitsTable").get_item(Key={"visitId": visit.visit_id}).get("Item")
    stack.client("s3").head_object(Bucket=stack.bucket, Key=f"results/{visit.visit_id}.png")
