"""The SageMaker model server over real HTTP on a loopback port."""

from __future__ import annotations

import base64
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from _engine_path import BUNDLED_PHOTOS, BUNDLED_PORTRAITS, ENGINE_DIR
from PIL import Image


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = _free_port()
    env = dict(os.environ, ENGINE_TASK="swap", MODEL_DIR="/nonexistent-model-dir")
    proc = subprocess.Popen(
        [sys.executable, str(ENGINE_DIR / "serve"), "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(url + "/ping", timeout=1) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        else:
            pytest.fail("server did not come up")
        yield url
    finally:
        proc.terminate()
        rc = proc.wait(timeout=10)
        assert rc == 0, proc.stderr.read().decode() if proc.stderr else rc


def _post(url: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url + "/invocations", data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def test_ping(server: str) -> None:
    with urllib.request.urlopen(server + "/ping") as r:
        assert r.status == 200


def test_swap_then_restore_returns_png_and_timings(server: str) -> None:
    portrait_path = BUNDLED_PORTRAITS / "mona-lisa.jpg"
    body = json.dumps(
        {
            "task": "swap",
            "face": _b64(BUNDLED_PHOTOS / "visitor-a.jpg"),
            "portrait": _b64(portrait_path),
            "theme": "painting",
        }
    ).encode()
    status, headers, data = _post(server, body)
    assert status == 200, data[:300]
    assert headers["Content-Type"] == "image/png"
    timings = json.loads(headers["X-Engine-Timings"])
    assert {"detect", "warp", "blend"} <= timings.keys() and all(v >= 0 for v in timings.values())
    out = np.asarray(Image.open(io.BytesIO(data)))
    src = np.asarray(Image.open(portrait_path).convert("RGB"))
    assert out.shape == src.shape
    assert not np.array_equal(out, src)
    # The swap's PNG carries the face mesh, so restore need not detect again.
    assert "face-engine:mesh" in Image.open(io.BytesIO(data)).info
    # An explicit task wins over ENGINE_TASK (swap in this server's env).
    body = json.dumps({"task": "restore", "image": base64.b64encode(data).decode(), "theme": "painting"}).encode()
    status, headers, data2 = _post(server, body)
    assert status == 200 and headers["Content-Type"] == "image/png"
    rt = json.loads(headers["X-Engine-Timings"])
    assert "harmonise" in rt and "detect" not in rt
    restored = np.asarray(Image.open(io.BytesIO(data2)))
    assert restored.shape == src.shape and not np.array_equal(restored, out)
    # The same image without the hint (re-encoded by Pillow) is restored too.
    buf = io.BytesIO()
    Image.fromarray(out).save(buf, "PNG")
    body = json.dumps(
        {"task": "restore", "image": base64.b64encode(buf.getvalue()).decode(), "theme": "painting"}
    ).encode()
    status, headers, _ = _post(server, body)
    assert status == 200 and "detect" in json.loads(headers["X-Engine-Timings"])


def test_task_defaults_to_engine_task_env(server: str) -> None:
    body = json.dumps(
        {
            "face": _b64(BUNDLED_PHOTOS / "visitor-b.jpg"),
            "portrait": _b64(BUNDLED_PORTRAITS / "mona-lisa.jpg"),
            "theme": "realistic",
        }
    ).encode()
    status, headers, _ = _post(server, body)
    assert status == 200 and headers["Content-Type"] == "image/png"


def test_refusal_is_422_with_reason(server: str) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 200, 200)).save(buf, "PNG")
    body = json.dumps(
        {
            "task": "swap",
            "face": base64.b64encode(buf.getvalue()).decode(),
            "portrait": _b64(BUNDLED_PORTRAITS / "mona-lisa.jpg"),
            "theme": "painting",
        }
    ).encode()
    status, headers, data = _post(server, body)
    assert status == 422
    assert headers["Content-Type"] == "application/json"
    err = json.loads(data)
    # The reason's name only: the sentence the visitor reads is the gallery layer's.
    assert err == {"error": "NoFaceDetected"}


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        json.dumps({"task": "swap", "face": "bm90IGFu", "portrait": "bm90IGFu", "theme": "painting"}).encode(),
        json.dumps({"task": "dance", "image": "x"}).encode(),
        json.dumps(["a", "list"]).encode(),
    ],
)
def test_bad_input_is_400(server: str, body: bytes) -> None:
    status, headers, data = _post(server, body)
    assert status == 400
    assert json.loads(data)["error"] == "BadRequest"


def test_unknown_theme_is_400(server: str) -> None:
    body = json.dumps(
        {
            "task": "swap",
            "face": _b64(BUNDLED_PHOTOS / "visitor-a.jpg"),
            "portrait": _b64(BUNDLED_PORTRAITS / "mona-lisa.jpg"),
            "theme": "cubism",
        }
    ).encode()
    status, _, data = _post(server, body)
    assert status == 400 and "cubism" in json.loads(data)["message"]
