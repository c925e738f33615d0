"""Decoding visitor photos safely and encoding results."""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from gallery.errors import PhotoTooLarge, UnreadablePhoto, WrongContentType

MAX_BYTES = 15 * 1024 * 1024  # Rekognition's limit for an S3 image; the presigned POST says the same.
MAX_PIXELS = 40_000_000
ACCEPTED_FORMATS = {"JPEG", "PNG"}
ACCEPTED_TYPES = {"image/jpeg", "image/png"}


def check_upload(content_type: str | None, size: int) -> None:
    if size > MAX_BYTES:
        raise PhotoTooLarge(f"The photo is {size / 2**20:.1f} MB; the limit is {MAX_BYTES // 2**20} MB.")
    if size == 0:
        raise UnreadablePhoto("The photo is empty. Please take it again.")
    if (content_type or "").split(";")[0].strip().lower() not in ACCEPTED_TYPES:
        raise WrongContentType(f"Only JPEG and PNG photos can be used, not {content_type or 'unknown'}.")


def decode_photo(data: bytes) -> Image.Image:
    """An upright RGB image, or a named error. RGBA is flattened on white (a transparent
    background would otherwise turn black)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if img.format not in ACCEPTED_FORMATS:
                raise WrongContentType(f"Only JPEG and PNG photos can be used, not {img.format}.")
            if img.width * img.height > MAX_PIXELS:
                raise PhotoTooLarge(f"The photo has {img.width}x{img.height} pixels; that is too many.")
            img.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise UnreadablePhoto() from e
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as e:
        raise PhotoTooLarge("The photo has too many pixels.") from e
    img = ImageOps.exif_transpose(img)
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        # 16-bit and float greyscale: Pillow's RGB conversion would clip nearly all of it to white.
        values = np.asarray(img, dtype=np.float64)
        top = values.max() or 1.0
        img = Image.fromarray((values * (255.0 / (65535.0 if top > 255 else 255.0))).clip(0, 255).astype(np.uint8))
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return img.convert("RGB")


def encode_png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)  # speed over size: these objects live a day
    return buf.getvalue()


def encode_jpeg(img: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()
