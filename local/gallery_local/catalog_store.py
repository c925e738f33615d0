"""The local catalog between runs: the operators' work (generated, reviewed, approved portraits)
is kept in a git-ignored data folder and loaded when a local stack starts, so a rehearsal can be
prepared one day and run the next. On AWS the table and bucket simply persist.

Layout of `{data_dir}/catalog/`: `items.jsonl` (one CatalogTable item per line, in DynamoDB's
typed JSON, so numbers and maps come back exactly) and `objects/` (the catalog/ objects of the
photo bucket, by key, with their content type beside them)."""

from __future__ import annotations

import json
import mimetypes
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# GALLERY_DATA_DIR moves it (a rehearsal's own folder, or a test's).
DATA_DIR = Path(os.environ.get("GALLERY_DATA_DIR") or ROOT / ".gallery-data")
PREFIX = "catalog/"


def _folder(data_dir: Path) -> Path:
    return Path(data_dir) / "catalog"


def has_catalog(data_dir: Path) -> bool:
    return (_folder(data_dir) / "items.jsonl").is_file()


def save(stack: Any, data_dir: Path) -> int:
    """Write the stack's whole catalog (items and objects) to the data folder; returns the
    number of items. Objects already there with the same size are not written again."""
    folder = _folder(data_dir)
    objects = folder / "objects"
    objects.mkdir(parents=True, exist_ok=True)
    ddb, s3 = stack.client("dynamodb"), stack.client("s3")
    items = []
    for page in ddb.get_paginator("scan").paginate(TableName=stack.names.name("CatalogTable")):
        items += page["Items"]
    keep = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket, Prefix=PREFIX):
        for obj in page.get("Contents", []):
            path = objects / obj["Key"]
            keep.add(path)
            if path.is_file() and path.stat().st_size == obj["Size"]:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(s3.get_object(Bucket=stack.bucket, Key=obj["Key"])["Body"].read())
    for stale in objects.rglob("*"):
        if stale.is_file() and stale not in keep:
            stale.unlink()
    tmp = folder / "items.jsonl.tmp"
    tmp.write_text("".join(json.dumps(i, sort_keys=True, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    tmp.replace(folder / "items.jsonl")  # never a half-written catalog
    return len(items)


def load(stack: Any, data_dir: Path) -> int:
    """Put a saved catalog into a freshly started stack; returns the number of items (0 when
    there is none)."""
    folder = _folder(data_dir)
    if not has_catalog(data_dir):
        return 0
    s3, ddb = stack.client("s3"), stack.client("dynamodb")
    objects = folder / "objects"
    for path in sorted(p for p in objects.rglob("*") if p.is_file()):
        key = path.relative_to(objects).as_posix()
        kind = "audio/mpeg" if key.endswith(".mp3") else mimetypes.guess_type(key)[0] or "application/octet-stream"
        s3.put_object(Bucket=stack.bucket, Key=key, Body=path.read_bytes(), ContentType=kind)
    table, count = stack.names.name("CatalogTable"), 0
    for line in (folder / "items.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            ddb.put_item(TableName=table, Item=json.loads(line))
            count += 1
    return count
