"""The offline catalog: the bundled portraits, reviewed automatically as a generated portrait is
(gallery.portrait_review), written to the catalog table and bucket."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gallery import catalog_items, portrait_review

DEMO = Path(__file__).resolve().parent / "demo"


def seed(stack: Any, manifest: Path = DEMO / "catalog.json") -> list[dict]:
    s3, rekognition = stack.client("s3"), stack.client("rekognition")
    table = stack.table("CatalogTable")
    items = []
    for entry in json.loads(manifest.read_text()):
        data = (manifest.parent / entry["file"]).read_bytes()
        key = f"catalog/{entry['theme']}/{entry['portraitId']}.jpg"
        s3.put_object(Bucket=stack.bucket, Key=key, Body=data, ContentType="image/jpeg")
        status, reason = portrait_review.review(rekognition, data)
        # The bundled portraits were chosen by hand, so the seed stands in for the operator who
        # approves what passed the automatic review; one that fails stays REJECTED with its reason.
        if status == catalog_items.PENDING_REVIEW:
            status = catalog_items.APPROVED
        item = {k: entry[k] for k in ("theme", "portraitId", "title", "story", "gender", "ageBand")}
        item.update(key=key, status=status)
        if reason:
            item["reviewReason"] = reason
        table.put_item(Item=item)
        items.append(item)
    return items
