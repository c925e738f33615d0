"""gallery.keys: where a visit's objects live, and which keys are tablet uploads."""

from __future__ import annotations

from pathlib import Path

import pytest
from cfnlint.decode import cfn_yaml

from gallery import keys
from gallery.errors import KeyOutsideUploads, UploadNotAccepted

ROOT = Path(__file__).resolve().parents[2]

VISIT = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("display", ["1", "3", "8", "42", "999"])
def test_upload_key_round_trips(display: str):
    key = keys.upload_key(display, VISIT)
    assert key == f"uploads/{display}/{VISIT}.jpg"
    assert keys.parse_upload_key(key) == (display, VISIT)


@pytest.mark.parametrize(
    "key",
    [
        # outside uploads/
        f"faces/{VISIT}.png",
        f"results/{VISIT}.png",
        f"catalog/painting/{VISIT}.jpg",
        f"inference/in/swap/{VISIT}.json",
        f"upload/3/{VISIT}.jpg",
        f"Uploads/3/{VISIT}.jpg",
        f"x/uploads/3/{VISIT}.jpg",
        f"uploads/{VISIT}.jpg",
        # not a display
        f"uploads/0/{VISIT}.jpg",
        f"uploads/03/{VISIT}.jpg",
        f"uploads/1000/{VISIT}.jpg",
        f"uploads/-3/{VISIT}.jpg",
        f"uploads/three/{VISIT}.jpg",
        f"uploads//{VISIT}.jpg",
        # not a visit id
        f"uploads/3/{VISIT[:-1]}.jpg",
        f"uploads/3/{VISIT}0.jpg",
        f"uploads/3/{VISIT.upper()}.jpg",
        "uploads/3/0123456789abcdef0123456789abcdeg.jpg",
        "uploads/3/01234567-89ab-cdef-0123-456789abcdef.jpg",
        # not a .jpg
        f"uploads/3/{VISIT}.png",
        f"uploads/3/{VISIT}.jpeg",
        f"uploads/3/{VISIT}.JPG",
        f"uploads/3/{VISIT}.jpg.exe",
        f"uploads/3/{VISIT}",
        # path tricks
        f"uploads/3/../../faces/{VISIT}.jpg",
        f"uploads/3/../3/{VISIT}.jpg",
        f"uploads/../uploads/3/{VISIT}.jpg",
        f"/uploads/3/{VISIT}.jpg",
        f"uploads/3//{VISIT}.jpg",
        f"uploads/3/sub/{VISIT}.jpg",
        f"uploads/3/%2e%2e/{VISIT}.jpg",
        f" uploads/3/{VISIT}.jpg",
        "",
        None,
    ],
)
def test_parse_upload_key_rejects_everything_else(key):
    with pytest.raises(KeyOutsideUploads) as e:
        keys.parse_upload_key(key)
    assert isinstance(e.value, UploadNotAccepted)
    assert "Not a tablet upload" in e.value.message


def test_parse_upload_key_rejects_a_trailing_newline():
    with pytest.raises(KeyOutsideUploads):
        keys.parse_upload_key(f"uploads/3/{VISIT}.jpg\n")


def test_object_keys_of_a_visit():
    assert keys.face_key(VISIT) == f"faces/{VISIT}.png"
    assert keys.swap_key(VISIT) == f"inference/swaps/{VISIT}.png"
    assert keys.result_key(VISIT) == f"results/{VISIT}.png"
    assert keys.visit_object_keys("3", VISIT) == [
        f"uploads/3/{VISIT}.jpg",
        f"faces/{VISIT}.png",
        f"inference/swaps/{VISIT}.png",
        f"results/{VISIT}.png",
    ]


def test_every_visit_object_expires_by_a_lifecycle_rule():
    bucket = cfn_yaml.load(str(ROOT / "template.yaml"))["Resources"]["PhotoBucket"]["Properties"]
    expiring = [
        r["Prefix"]
        for r in bucket["LifecycleConfiguration"]["Rules"]
        if r["Status"] == "Enabled" and "ExpirationInDays" in r and "Prefix" in r
    ]
    for key in [*keys.visit_object_keys("3", VISIT), *keys.visit_inference_prefixes(VISIT)]:
        assert any(key.startswith(p) for p in expiring), key
    assert not any(f"{keys.CATALOG}painting/mona-lisa.jpg".startswith(p) for p in expiring)
