"""Odd but valid photos, built in memory: what phones and mischievous uploads produce.

The PNGs are written chunk by chunk with zlib, so a 1 x 39,000,000 or a 6300 x 6300 16-bit
photo costs a few kilobytes and no decoded image in the test process."""

from __future__ import annotations

import io
import os
import re
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_rows(width: int, height: int, bit_depth: int, colour_type: int, row: Callable[[int], bytes]) -> bytes:
    """A PNG whose scanline y (filter byte 0 and pixels) is row(y). Rows are compressed as they
    are made, so the raw image never exists whole."""
    z = zlib.compressobj(9)
    parts = []
    for y in range(height):
        parts.append(z.compress(b"\x00" + row(y)))
    parts.append(z.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b"")


def grey16_ramp_png(width: int, height: int) -> bytes:
    """16-bit greyscale, each row a ramp from black to white (0..65535): real 16-bit tones,
    a ~90 KB file for 6300 x 6300."""
    ramp = b"".join(struct.pack(">H", x * 65535 // max(1, width - 1)) for x in range(width))
    return png_rows(width, height, 16, 0, lambda y: ramp)


def strip_png(width: int, height: int) -> bytes:
    """8-bit greyscale, all mid-grey: a 1 x 39,000,000 strip is about 80 KB. Rows are built
    in blocks so that 39 million one-pixel rows take seconds, not minutes."""
    line = b"\x00" + b"\x80" * width
    z = zlib.compressobj(9)
    parts = []
    block = 1 << 16
    for start in range(0, height, block):
        parts.append(z.compress(line * min(block, height - start)))
    parts.append(z.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b"")


def png_claiming(width: int, height: int) -> bytes:
    """A valid 1x1 PNG whose header claims width x height: decoders read the size before any pixel."""
    png = bytearray(_one_pixel_png())
    ihdr = struct.pack(">II", width, height) + png[24:29]
    png[16:29] = ihdr
    png[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(png)


def _one_pixel_png() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (1, 1)).save(buf, "PNG")
    return buf.getvalue()


def mpo(first: Image.Image, second: Image.Image, quality: int = 92) -> bytes:
    """A multi-picture JPEG as phones write it (a main image and a second one, e.g. a depth map
    or a preview). Pillow reads it back as format "MPO"."""
    buf = io.BytesIO()
    first.convert("RGB").save(buf, "MPO", save_all=True, append_images=[second.convert("RGB")], quality=quality)
    data = buf.getvalue()
    assert Image.open(io.BytesIO(data)).format == "MPO"
    return data


# ---------------------------------------------------------------- peak memory of a code path

_PROBE = """
import re, sys
data = open(sys.argv[1], "rb").read()
{setup}
def status(field):
    return int(re.search(field + r":\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))
try:  # Linux: restart the high-water mark here, so that it measures the body alone
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
except OSError:
    pass
before = status("VmRSS")
try:
{body}
except Exception as e:
    print("RAISED", type(e).__name__, flush=True)
print("RSS_KB", before, status("VmHWM"), flush=True)
"""


def peak_rss(data: bytes, setup: str, body: str, tmp: Path) -> tuple[int, int, str]:
    """Run `setup`, then `body`, on `data` in a fresh interpreter. Returns (the process's
    resident memory in MiB when the body starts, its peak while the body ran, the name of any
    exception the body raised). The peak is the whole process's high-water mark, interpreter
    and libraries included, which is what a Lambda's MemorySize bounds; Pillow's and numpy's C
    buffers count too (tracemalloc would miss Pillow's). Where the kernel cannot reset the mark,
    the peak also covers the setup, so it can only be higher."""
    photo = tmp / "photo.bin"
    photo.write_bytes(data)
    code = _PROBE.format(setup=setup, body="\n".join("    " + line for line in body.strip().splitlines()))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("layers/gallery/python", "."))}
    proc = subprocess.run(
        [sys.executable, "-c", code, str(photo)], capture_output=True, text=True, env=env, timeout=600, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    before, after = (int(v) // 1024 for v in re.search(r"RSS_KB (\d+) (\d+)", out).groups())
    raised = re.search(r"RAISED (\w+)", out)
    return before, after, raised.group(1) if raised else ""
