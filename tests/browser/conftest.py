"""Browser tests: Debian's Chromium, driven by Playwright, against `gallery serve` on the session's
local stack (the `stack` fixture of tests/stack_fixture.py; there is one per process).

Chromium is never downloaded: it is Debian's package (`apt-get install chromium`), started
through `executable_path`. Its fake camera plays a .y4m file made here from a sample photo.
Set GALLERY_SCREENSHOTS=web/screenshots to refresh the screenshots the README shows."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gallery_local.demo import DEMO
from gallery_local.serve import Serve
from tests.stack_fixture import reset_around

CHROMIUM = Path(os.environ.get("GALLERY_CHROMIUM", "/usr/lib/chromium/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
TABLET = {"viewport": {"width": 800, "height": 1280}, "has_touch": True, "device_scale_factor": 1}
WALL = {"viewport": {"width": 1920, "height": 1080}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
LAPTOP = {"viewport": {"width": 1440, "height": 1000}}
VISITOR_PHOTO = DEMO / "photos" / "visitor-b.jpg"
CAMERA_PHOTO = DEMO / "photos" / "visitor-a.jpg"


def write_y4m(photo: Path, out: Path, width: int = 720, height: int = 960, frames: int = 2) -> Path:
    """A YUV4MPEG2 (4:2:0, BT.601 limited range) clip of one photo, for Chromium's fake camera."""
    img = Image.open(photo).convert("RGB")
    scale = max(width / img.width, height / img.height)
    img = img.resize((round(img.width * scale), round(img.height * scale)), Image.LANCZOS)
    left, top = (img.width - width) // 2, (img.height - height) // 2
    rgb = np.asarray(img.crop((left, top, left + width, top + height)), dtype=np.float32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 16 + 0.257 * r + 0.504 * g + 0.098 * b
    u = 128 - 0.148 * r - 0.291 * g + 0.439 * b
    v = 128 + 0.439 * r - 0.368 * g - 0.071 * b

    def sub(plane: np.ndarray) -> np.ndarray:
        return plane.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))

    planes = [np.clip(p, 0, 255).round().astype(np.uint8).tobytes() for p in (y, sub(u), sub(v))]
    with out.open("wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg XYSCSS=420JPEG\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n")
            for p in planes:
                f.write(p)
    return out


@pytest.fixture(scope="session")
def served(stack):
    """`gallery serve`'s components on the session's stack: pages, config, real-time, users."""
    with Serve(stack, keepalive_seconds=5) as s:
        yield s


@pytest.fixture(autouse=True)
def realtime_up(request):
    """Every browser test starts with the real-time endpoint accepting connections."""
    yield from reset_around(request, "served", lambda s: s.realtime.refuse(False))


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/ensure-chromium (make test does), "
            "or apt-get install chromium chromium-driver"
        )
    from playwright.sync_api import sync_playwright

    y4m = write_y4m(CAMERA_PHOTO, tmp_path_factory.mktemp("camera") / "visitor.y4m")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={y4m}"],
        )
        yield b
        b.close()


@pytest.fixture
def open_page(browser, served):
    """open_page(path, **context options) -> a page in a fresh context (its own localStorage)."""
    contexts = []

    def _open(path: str, device: dict | None = None):
        context = browser.new_context(base_url=served.urls.base, **(device or {}))
        context.set_default_timeout(15000)
        contexts.append(context)
        page = context.new_page()
        page.goto(path)
        return page

    yield _open
    for c in contexts:
        c.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    target = os.environ.get("GALLERY_SCREENSHOTS")
    path = Path(target) if target else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def no_face_jpeg() -> bytes:
    """A landscape of soft noise: a photo with no face in it."""
    rng = np.random.default_rng(7)
    arr = (rng.random((600, 800, 3)) * 60 + np.linspace(80, 200, 800)[None, :, None]).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=90)
    return buf.getvalue()
