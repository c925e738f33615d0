"""SageMaker BYOC model server: GET /ping, POST /invocations.

One image serves both SageMaker models; the request's "task" (or env
ENGINE_TASK, set per SageMaker Model) picks swap or restore.

    200 image/png + X-Engine-Timings: {"detect": 12.3, ...}
    422 {"error": "<Refused reason>"}                  the visitor's face
    422 {"error": "PortraitRefused", "reason": "...", "message": "..."}
    400 {"error": "BadRequest", "message": "..."}
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import logging
import os
import signal
import struct
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from . import engine
from .errors import PORTRAIT, PORTRAIT_REFUSED, Refused

log = logging.getLogger("face_engine.server")

MAX_BODY = 64 * 1024 * 1024  # SageMaker async allows up to 1 GB; photos are far smaller
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding


class BadRequest(Exception):
    pass


MESH_KEY = "face-engine:mesh"  # PNG tEXt chunk: where the swap put the face


def decode_image(b64: object, field: str) -> np.ndarray:
    """base64 PNG/JPEG -> HxWx3 uint8 RGB, EXIF orientation applied, alpha dropped."""
    return decode_image_meta(b64, field)[0]


def decode_image_meta(b64: object, field: str) -> tuple[np.ndarray, np.ndarray | None]:
    """decode_image, plus the face mesh hint from a swap's PNG when present."""
    if not isinstance(b64, str) or not b64:
        raise BadRequest(f"'{field}' must be a base64-encoded PNG or JPEG")
    try:
        raw = base64.b64decode(b64, validate=False)
        im: Image.Image = Image.open(io.BytesIO(raw))  # an ImageFile, then plain Images below
        if im.width * im.height > MAX_PIXELS:
            raise BadRequest(f"'{field}' is too large ({im.width}x{im.height})")
        mesh = _mesh_from_text(im.info.get(MESH_KEY))
        im = ImageOps.exif_transpose(im)
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            # Transparent areas become white, as on the tablets' previews.
            im = im.convert("RGBA")
            bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
            im = Image.alpha_composite(bg, im)
        return np.asarray(im.convert("RGB")), mesh
    except (binascii.Error, UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise BadRequest(f"'{field}' is not a decodable image: {e}") from None


def _mesh_from_text(text: object) -> np.ndarray | None:
    # A hint only: anything malformed is ignored and restore detects the face.
    if not isinstance(text, str):
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 468 * 3 * 4:
        return None
    mesh = np.frombuffer(raw, "<f4").reshape(468, 3).astype(np.float64)
    return mesh if np.isfinite(mesh).all() else None


def encode_png(rgb: np.ndarray, mesh: np.ndarray | None = None) -> bytes:
    """PNG bytes (OpenCV's encoder: several times faster than Pillow's at the same size).

    With `mesh`, a tEXt chunk carries the swapped face's mesh so that the
    restore call, which gets only this PNG, works on exactly that region.
    """
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise RuntimeError("PNG encoding failed")
    png = buf.tobytes()
    if mesh is None:
        return png
    text = MESH_KEY.encode("latin-1") + b"\0" + base64.b64encode(np.asarray(mesh, "<f4").tobytes())
    chunk = struct.pack(">I", len(text)) + b"tEXt" + text
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + text) & 0xFFFFFFFF)
    # Right after IHDR (8-byte signature + 25-byte IHDR chunk), so that
    # readers see it without decoding the pixels first.
    return png[:33] + chunk + png[33:]


def handle(body: bytes) -> tuple[int, dict[str, str], bytes]:
    """The /invocations logic, independent of the HTTP plumbing (status, headers, body)."""
    try:
        try:
            req = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise BadRequest(f"body is not JSON: {e}") from None
        if not isinstance(req, dict):
            raise BadRequest("body must be a JSON object")
        task = req.get("task") or os.environ.get("ENGINE_TASK", "")
        theme = req.get("theme", "realistic")
        if not isinstance(theme, str):
            raise BadRequest("'theme' must be a string")
        if task == "swap":
            face = decode_image(req.get("face"), "face")
            portrait = decode_image(req.get("portrait"), "portrait")
            out, timings, mesh = engine.swap(face, portrait, theme)
        elif task == "restore":
            image, hint = decode_image_meta(req.get("image"), "image")
            out, timings = engine.restore(image, theme, hint)
            mesh = None
        else:
            raise BadRequest(f"unknown task {task!r}; expected 'swap' or 'restore'")
        png = encode_png(out, mesh)
        headers = {"Content-Type": "image/png", "X-Engine-Timings": json.dumps(timings)}
        return 200, headers, png
    except Refused as r:
        if r.subject == PORTRAIT:
            # Not the visitor's doing, so not a refusal name: the visit fails and operators
            # read which reason the catalog's portrait met.
            return _json(422, {"error": PORTRAIT_REFUSED, "reason": r.reason, "message": str(r)})
        # A name, no sentence: the gallery layer words it for the visitor.
        return _json(422, {"error": r.reason})
    except BadRequest as e:
        return _json(400, {"error": "BadRequest", "message": str(e)})
    except ValueError as e:  # unknown theme, malformed image array
        return _json(400, {"error": "BadRequest", "message": str(e)})


def _json(status: int, obj: dict) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(obj).encode()


class Handler(BaseHTTPRequestHandler):
    server_version = "face-engine/1"
    protocol_version = "HTTP/1.1"

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        if self.path.split("?")[0] == "/ping":
            ready = getattr(self.server, "ready", False)
            status = 200 if ready else 503
            self._send(status, {"Content-Type": "application/json"},
                       json.dumps({"status": "ok" if ready else "loading"}).encode())
        else:
            self._send(*_json(404, {"error": "NotFound", "message": self.path}))

    def do_POST(self) -> None:  # noqa: N802
        if self.path.split("?")[0] != "/invocations":
            self._send(*_json(404, {"error": "NotFound", "message": self.path}))
            return
        try:
            n = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            n = -1
        if n < 0 or n > MAX_BODY:
            self.close_connection = True
            self._send(*_json(400, {"error": "BadRequest", "message": "missing or oversized body"}))
            return
        body = self.rfile.read(n)
        try:
            self._send(*handle(body))
        except Exception:  # a bug, not bad input: log it and answer 500
            log.exception("invocation failed")
            self._send(*_json(500, {"error": "InternalError", "message": "the engine failed"}))

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.info("%s %s", self.address_string(), format % args)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    ready = False


def run(host: str = "0.0.0.0", port: int | None = None) -> None:
    """Serve until SIGTERM/SIGINT. Warms the models before answering /ping with 200."""
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(name)s %(message)s")
    if port is None:
        port = int(os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080"))
    httpd = Server((host, port), Handler)

    def stop(signum: int, _frame: object) -> None:
        log.info("signal %d: shutting down", signum)
        # shutdown() waits for serve_forever to return, so it must not run
        # on the thread that is inside serve_forever (this one).
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    engine.warmup()
    httpd.ready = True
    log.info("listening on %s:%d (backend %s)", host, httpd.server_address[1], engine.backend_name())
    try:
        httpd.serve_forever(poll_interval=0.2)
    finally:
        httpd.server_close()
