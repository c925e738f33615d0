"""Odd photos through the crop step: 16-bit, a 1 x 39,000,000 strip, multi-picture JPEGs.

The large cases run CropFace's domain code in a fresh interpreter and read the process's peak
resident memory, which is what the function's MemorySize in template.yaml bounds."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gallery import images
from gallery.errors import PhotoTooLarge, UnreadablePhoto
from tests.conftest import load_template
from tests.odd_images import grey16_ramp_png, mpo, peak_rss, png_rows, strip_png

MIB = 1024 * 1024


def crop_face_memory_size() -> int:
    """CropFaceFunction's MemorySize in MiB, or the template's Globals default."""
    template = load_template()
    props = template["Resources"]["CropFaceFunction"]["Properties"]
    return int(props.get("MemorySize") or template["Globals"]["Function"]["MemorySize"])


# CropFace's domain code on moto's S3 and Rekognition in a fresh interpreter. DetectFaces is
# answered through the local stack's moto hook by a detector that sees a face in the middle of
# whatever it is sent: Rekognition is a remote service, its memory is not the function's.
CROP_SETUP = """
import os
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
os.environ.pop("AWS_ENDPOINT_URL", None)
import boto3
from moto import mock_aws
from gallery import crop
from gallery_local import moto_hooks
from tests.unit.test_domain_face_checks import face_detail
moto_hooks.install()
moto_hooks.set_face_detector(lambda probe: [face_detail()], lambda bucket, key: b"")
mock_aws().start()
s3, rekognition = boto3.client("s3"), boto3.client("rekognition")
s3.create_bucket(Bucket="photos")
s3.put_object(Bucket="photos", Key="uploads/1/v.jpg", Body=data, ContentType=CONTENT_TYPE)
del data
"""
CROP_BODY = """
face = crop.crop_face(s3, rekognition, "photos", "uploads/1/v.jpg", "v")
assert s3.head_object(Bucket="photos", Key=face["key"])["ContentLength"] > 0
"""


def crop_peak(data: bytes, content_type: str, tmp: Path) -> tuple[int, int, str]:
    return peak_rss(data, CROP_SETUP.replace("CONTENT_TYPE", repr(content_type)), CROP_BODY, tmp)


def test_crop_face_memory_size_is_read_from_the_template():
    assert crop_face_memory_size() == 1024


# ---------------------------------------------------------------- 16-bit greyscale


def test_a_16_bit_6300_x_6300_png_is_cropped_well_under_the_functions_memory(tmp_path):
    data = grey16_ramp_png(6300, 6300)
    assert len(data) < 1 * MIB  # a small file...
    header = Image.open(io.BytesIO(data))
    assert header.mode == "I;16" and header.size == (6300, 6300)  # ...of 39.7 million 16-bit pixels
    before, peak, raised = crop_peak(data, "image/png", tmp_path)
    print(f"16-bit 6300 x 6300 PNG through crop_face: {before} MiB at the start, peak {peak} MiB")
    assert raised == ""  # a face was cut out and written to faces/
    # Converting through float64 peaked near a gigabyte; in integer bands it is a few hundred MB.
    assert peak < crop_face_memory_size() / 2, f"peak {peak} MiB"
    assert peak - before < 300, f"{peak - before} MiB for one photo"


def test_16_bit_tones_become_8_bit_by_integer_rounding():
    levels = [0, 128, 129, 385, 386, 32767, 32768, 65278, 65406, 65407, 65535]
    row = b"".join(v.to_bytes(2, "big") for v in levels)
    out = images.decode_photo(png_rows(len(levels), 3, 16, 0, lambda y: row))
    assert out.mode == "RGB" and out.size == (len(levels), 3)
    got = [out.getpixel((x, 1))[0] for x in range(len(levels))]
    assert got == [round(v * 255 / 65535) for v in levels] == [0, 0, 1, 1, 2, 127, 128, 254, 254, 255, 255]


def test_a_16_bit_photo_wider_than_one_band_converts_every_band():
    # 2500 x 700 is 1.75 megapixels: two bands. Each row is a ramp, each band must match.
    out = np.asarray(images.decode_photo(grey16_ramp_png(2500, 700)))
    expected = np.array([(x * 65535 // 2499 + 128) // 257 for x in range(2500)], np.uint8)
    assert out.shape == (700, 2500, 3)
    assert (
        (out[0, :, 0] == expected).all() and (out[699, :, 2] == expected).all() and (out[350, :, 1] == expected).all()
    )


def test_a_16_bit_file_holding_8_bit_values_keeps_them():
    row = b"".join(v.to_bytes(2, "big") for v in (0, 17, 200, 255))
    out = images.decode_photo(png_rows(4, 2, 16, 0, lambda y: row))
    assert [out.getpixel((x, 0)) for x in range(4)] == [(0, 0, 0), (17, 17, 17), (200, 200, 200), (255, 255, 255)]


def test_48_bit_rgb_and_64_bit_rgba_pngs_decode():
    rgb48 = png_rows(90, 90, 16, 2, lambda y: (65535).to_bytes(2, "big") + bytes(4) + bytes(6) * 89)
    out = images.decode_photo(rgb48)
    assert out.mode == "RGB" and out.getpixel((0, 5)) == (255, 0, 0) and out.getpixel((1, 5)) == (0, 0, 0)
    transparent = png_rows(90, 90, 16, 6, lambda y: bytes(8) * 90)
    assert images.decode_photo(transparent).getpixel((45, 45)) == (255, 255, 255)  # flattened on white


# ---------------------------------------------------------------- a 1 x 39,000,000 strip


def test_a_1_x_39_million_png_is_refused_from_its_header(tmp_path):
    data = strip_png(1, 39_000_000)
    assert len(data) < 200 * 1024 and Image.open(io.BytesIO(data)).size == (1, 39_000_000)
    with pytest.raises(UnreadablePhoto) as e:
        images.decode_photo(data)
    assert e.value.message == (
        "The photo is 1 x 39000000 pixels, far too long and narrow to show a face. Please take an ordinary photo."
    )
    before, peak, raised = crop_peak(data, "image/png", tmp_path)
    print(f"1 x 39,000,000 PNG through crop_face: {before} MiB at the start, peak {peak} MiB")
    assert raised == "UnreadablePhoto"
    # Decoded, the strip costs 39 MB of pixels and 312 MB of row pointers; refused, nothing.
    assert peak - before < 20, f"{peak - before} MiB"


@pytest.mark.parametrize(
    "width,height,error",
    [
        (1, 39_000_000, UnreadablePhoto),  # a strip: refused for its shape
        (4001, 1000, UnreadablePhoto),  # just past 4:1
        (10_001, 3000, PhotoTooLarge),  # a side past Rekognition's 10,000 px
        (8000, 6000, PhotoTooLarge),  # 48 MP
        (7000, 7000, PhotoTooLarge),  # 49 MP, square
    ],
)
def test_dimensions_refused_from_the_header(width, height, error):
    with pytest.raises(error):
        images.check_dimensions(width, height)


@pytest.mark.parametrize("width,height", [(4000, 1000), (1000, 4000), (6300, 6300), (10_000, 3000), (80, 80), (3, 1)])
def test_dimensions_accepted(width, height):
    assert images.check_dimensions(width, height) is None


def test_the_crop_step_refuses_photos_smaller_than_rekognition_reads():
    small = io.BytesIO()
    Image.new("RGB", (120, 79), (90, 90, 90)).save(small, "JPEG")
    assert images.decode_photo(small.getvalue()).size == (120, 79)
    with pytest.raises(UnreadablePhoto) as e:
        images.decode_photo(small.getvalue(), min_side=images.MIN_SIDE)
    assert "120 x 79" in e.value.message


# ---------------------------------------------------------------- MPO: multi-picture JPEGs


def two_pictures() -> bytes:
    first = Image.new("RGB", (320, 240), (200, 30, 30))
    first.paste((30, 30, 200), (0, 0, 160, 240))  # left half blue, right half red
    return mpo(first, Image.new("RGB", (64, 48), (0, 255, 0)))


def test_an_mpo_decodes_to_its_first_picture():
    out = images.decode_photo(two_pictures())
    assert out.mode == "RGB" and out.size == (320, 240)
    left, right = out.getpixel((40, 120)), out.getpixel((280, 120))
    assert all(abs(a - b) <= 10 for a, b in zip(left, (30, 30, 200), strict=True))
    assert all(abs(a - b) <= 10 for a, b in zip(right, (200, 30, 30), strict=True))


@pytest.mark.parametrize("content_type", ["image/jpeg", "image/jpg", "image/pjpeg", "image/mpo", "image/x-png"])
def test_content_types_phones_send_are_accepted(content_type):
    assert images.check_upload(content_type, 4 * MIB) is None


def test_an_mpo_photo_is_cropped_from_its_first_picture(tmp_path):
    # The detector sees a face filling the middle half of the probe; padded by half its size,
    # the crop is the whole first picture (320 x 240), blue on the left and red on the right.
    body = (
        CROP_BODY
        + """
from PIL import Image
import io
assert face["box"] == [0, 0, 320, 240], face
cut = Image.open(io.BytesIO(s3.get_object(Bucket="photos", Key="faces/v.png")["Body"].read()))
assert cut.size == (320, 240) and cut.getpixel((40, 120))[2] > 150 and cut.getpixel((280, 120))[0] > 150
"""
    )
    setup = CROP_SETUP.replace("CONTENT_TYPE", repr("image/jpeg")).replace(
        "[face_detail()]", "[face_detail(left=0.25, top=0.25, width=0.5, height=0.5)]"
    )
    before, peak, raised = peak_rss(two_pictures(), setup, body, tmp_path)
    assert raised == ""
    assert peak < crop_face_memory_size() / 2
