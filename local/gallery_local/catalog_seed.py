"""The offline catalog: the bundled portraits, reviewed automatically as `catalog review` does
(the same face checks as the crop step), written to the catalog table and bucket."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image

from gallery import catalog, face_checks

DEMO = Path(__file__).resolve().parent / "demo"


def review(rekognition: Any, data: bytes) -> tuple[str, str | None]:
    """(status, reason): a portrait needs exactly one usable face."""
    import io

    width, height = Image.open(io.BytesIO(data)).size
    faces = rekognition.detect_faces(Image={"Bytes": data}, Attributes=["ALL"])["FaceDetails"]
    confident = [f for f in faces if f.get("Confidence", 0) >= face_checks.MIN_CONFIDENCE]
    if len(confident) > 1:
        return "REJECTED", "SeveralFaces"
    problem = face_checks.problem(face_checks.largest_face(faces), width, height)
    return ("REJECTED", type(problem).__name__) if problem else (catalog.APPROVED, None)


def seed(stack: Any, manifest: Path = DEMO / "catalog.json") -> list[dict]:
    s3, rekognition = stack.client("s3"), stack.client("rekognition")
    table = stack.table("CatalogTable")
    items = []
    for entry in json.loads(manifest.read_text()):
        data = (manifest.parent / entry["file"]).read_bytes()
        key = f"catalog/{entry['theme']}/{entry['portraitId']}.jpg"
        s3.put_object(Bucket=stack.bucket, Key=key, Body=data, ContentType="image/jpeg")
        status, reason = review(rekognition, data)
        item = {k: entry[k] for k in ("theme", "portraitId", "title", "story", "gender", "ageBand")}
        item.update(key=key, status=status)
        if reason:
            item["reviewReason"] = reason
        table.put_item(Item=item)
        items.append(item)
    return items
