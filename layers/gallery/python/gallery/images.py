"""Decoding visitor photos safely and encoding results."""

from __future__ import annotations

import io
from typing import cast

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from gallery.errors import PhotoTooLarge, UnreadablePhoto, WrongContentType

MAX_BYTES = 15 * 1024 * 1024  # Rekognition's limit for an S3 image; the presigned POST says the same.
MAX_PIXELS = 40_000_000  # a 48 MP phone photo is 8000 x 6000; 40 MP decoded as RGB is 120 MB
# Rekognition's documented image limits: at least 80 px on each side, at most 10,000 px.
MIN_SIDE = 80
MAX_SIDE = 10_000
# Phones take 4:3 to 21:9 photos; anything longer than 4:1 is a panorama or a strip with no
# face big enough to use, and past that the face detector's probe would get too thin.
MAX_ASPECT = 4.0
# MPO is a JPEG with more pictures after the first (phones write depth maps and previews that
# way); the first picture is an ordinary JPEG and it is the photo.
ACCEPTED_FORMATS = {"JPEG", "MPO", "PNG"}
# What browsers and phone apps put in Content-Type for those files: image/jpg and image/pjpeg
# come from older apps, image/mpo from cameras that name multi-picture files .mpo.
ACCEPTED_TYPES = {"image/jpeg", "image/jpg", "image/pjpeg", "image/mpo", "image/png", "image/x-png"}
SIXTEEN_BIT_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N", "F")
_BAND_PIXELS = 1 << 20  # 16-bit photos are converted a band of about a megapixel at a time


def check_upload(content_type: str | None, size: int) -> None:
    if size > MAX_BYTES:
        raise PhotoTooLarge(f"The photo is {size / 2**20:.1f} MB; the limit is {MAX_BYTES // 2**20} MB.")
    if size == 0:
        raise UnreadablePhoto("The photo is empty. Please take it again.")
    if (content_type or "").split(";")[0].strip().lower() not in ACCEPTED_TYPES:
        raise WrongContentType(f"Only JPEG and PNG photos can be used, not {content_type or 'unknown'}.")


def check_dimensions(width: int, height: int, min_side: int = 1) -> None:
    """Refuse a photo by the size in its header, before a single pixel is decoded: the decoded
    image, not the file, is what fills a function's memory (a 90 KB PNG can claim 40 MP)."""
    if width * height > MAX_PIXELS:
        raise PhotoTooLarge(
            f"The photo has {width} x {height} pixels; that is too many (at most {MAX_PIXELS // 10**6} million)."
        )
    if max(width, height) > MAX_ASPECT * max(1, min(width, height)):
        raise UnreadablePhoto(
            f"The photo is {width} x {height} pixels, far too long and narrow to show a face. "
            "Please take an ordinary photo."
        )
    if max(width, height) > MAX_SIDE:
        raise PhotoTooLarge(f"The photo is {width} x {height} pixels; a side can be at most {MAX_SIDE} pixels.")
    if min(width, height) < min_side:
        raise UnreadablePhoto(
            f"The photo is only {width} x {height} pixels, too small to find a face in. Please take it again."
        )


def decode_photo(data: bytes, min_side: int = 1) -> Image.Image:
    """An upright RGB image, or a named error. RGBA is flattened on white (a transparent
    background would otherwise turn black). `min_side`: the fewest pixels a side may have (the
    crop step asks for Rekognition's minimum)."""
    try:
        # Image.open reads the header only: format and size are known before any decoding.
        # MAX_PIXELS is under Pillow's own bomb limits, so check_dimensions refuses whatever
        # Pillow would merely warn about; past twice its limit Pillow refuses first. (No
        # warnings.catch_warnings here: it is not thread-safe, and the local stack decodes
        # several photos at once in one process.)
        img: Image.Image = Image.open(io.BytesIO(data))
        if img.format not in ACCEPTED_FORMATS:
            raise WrongContentType(f"Only JPEG and PNG photos can be used, not {img.format}.")
        check_dimensions(img.width, img.height, min_side)
        img.load()  # for an MPO, the first picture only
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as e:
        raise PhotoTooLarge("The photo has too many pixels.") from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise UnreadablePhoto() from e
    # In place: a rotated photo costs one transposed copy, an upright one none.
    ImageOps.exif_transpose(img, in_place=True)
    if img.mode in SIXTEEN_BIT_MODES:
        img = _to_8_bit(img)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img if img.mode == "RGBA" else img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    # convert() would copy an image that is already RGB.
    return img if img.mode == "RGB" else img.convert("RGB")


def _to_8_bit(img: Image.Image) -> Image.Image:
    """16-bit (or 32-bit) greyscale to 8-bit "L". Pillow's own conversion clips everything over
    255 to white. Integer arithmetic, a band at a time: a float64 copy of a 40 MP photo would be
    320 MB, three of them in one expression nearly a gigabyte."""
    # One band in every SIXTEEN_BIT_MODES: (lowest, highest), not one pair per band.
    _, high = cast("tuple[float, float]", img.getextrema())
    # Some writers store 8-bit values in a 16-bit file; those are kept as they are.
    sixteen = high > 255
    width, height = img.size
    out = np.empty((height, width), np.uint8)
    rows = max(1, _BAND_PIXELS // max(1, width))
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        band = np.asarray(img.crop((0, top, width, bottom)))
        band = np.clip(band, 0, 65535 if sixteen else 255).astype(np.uint32)
        # round(v * 255 / 65535) == (v + 128) // 257, exactly, for every v in 0..65535
        out[top:bottom] = (band + 128) // 257 if sixteen else band
    return Image.fromarray(out)  # uint8, two dimensions: mode "L"


def encode_png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)  # speed over size: these objects live a day
    return buf.getvalue()


def encode_jpeg(img: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()
