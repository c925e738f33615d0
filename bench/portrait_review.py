#!/usr/bin/env python3
"""The automatic portrait review (gallery.portrait_review) over every portrait at hand: the
bundled demo portraits and, when ../shared/data exists, all of its portraits (every theme,
animation included). DetectFaces is answered by the local face engine, as on the local stack.

    .venv/bin/python bench/portrait_review.py [--data DIR] [--no-write]

Prints how many pass, the reasons of the rest and each portrait's figures (the largest face's
height as a fraction of the picture, yaw, pitch, Brightness, Sharpness, EyesOpen), and writes
them into bench/RESULTS.md (portrait-review section).
"""

from __future__ import annotations

import argparse
import collections
import platform
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
for sub in ("containers/face", "layers/gallery/python"):
    sys.path.insert(0, str(REPO / sub))

from face_engine.rekognition import face_details  # noqa: E402
from gallery import face_checks, portrait_review  # noqa: E402

DEMO = REPO / "local" / "gallery_local" / "demo" / "portraits"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


class EngineRekognition:
    """detect_faces as the local stack answers it: the real face engine on the decoded bytes.
    Keeps the last answer so the table can show the figures the review decided on."""

    def __init__(self) -> None:
        self.last: list[dict] = []

    def detect_faces(
        self,
        *,
        Image: Mapping[str, Any],  # noqa: N803 (boto3's names)
        Attributes: Sequence[str],  # noqa: N803
    ) -> dict:
        bgr = cv2.imdecode(np.frombuffer(Image["Bytes"], np.uint8), cv2.IMREAD_COLOR)
        if bgr is None:  # as Rekognition's InvalidImageFormatException; the review sends a JPEG it made
            raise ValueError("DetectFaces: the image bytes do not decode")
        self.last = face_details(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        return {"FaceDetails": self.last}


def portraits(data: Path) -> list[tuple[str, Path]]:
    found = [("demo", p) for p in sorted(DEMO.glob("*.jpg"))]
    root = data / "portraits"
    if root.is_dir():
        found += [("shared", p) for p in sorted(root.rglob("*")) if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    return found


def figures(faces: list[dict]) -> str:
    confident = [f for f in faces if f.get("Confidence", 0) >= face_checks.MIN_CONFIDENCE]
    face = face_checks.largest_face(confident)
    if face is None:
        return "| | | | | | |"
    box, pose, quality = face["BoundingBox"], face.get("Pose", {}), face.get("Quality", {})
    eyes = face.get("EyesOpen")
    eyes_text = f"{eyes['Value']} ({eyes['Confidence']:.0f})" if eyes else ""
    return (
        f"| {box['Height']:.3f} | {pose.get('Yaw', 0):.0f} | {pose.get('Pitch', 0):.0f} "
        f"| {quality.get('Brightness', 0):.0f} | {quality.get('Sharpness', 0):.0f} | {eyes_text} |"
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    args = ap.parse_args()

    rekognition = EngineRekognition()
    rows: list[str] = []
    reasons: collections.Counter[str] = collections.Counter()
    counts: collections.Counter[str] = collections.Counter()
    for origin, path in portraits(args.data):
        rekognition.last = []
        status, reason = portrait_review.review(rekognition, path.read_bytes())
        reasons[reason or "passes"] += 1
        counts[origin] += 1
        name = path.relative_to(args.data / "portraits") if origin == "shared" else path.name
        with Image.open(path) as img:
            size = f"{img.width}x{img.height}"
        rows.append(f"| {origin} | {name} | {size} {figures(rekognition.last)} {reason or 'passes'} |")

    total = sum(reasons.values())
    shared_note = "" if counts["shared"] else f" ({args.data / 'portraits'} not found: bundled portraits only)"
    summary = [
        f"| {r} | {n} | {portrait_review.message(r) if r != 'passes' else ''} |"
        for r, n in sorted(reasons.items(), key=lambda kv: (kv[0] != "passes", -kv[1], kv[0]))
    ]
    md = "\n".join(
        [
            "## Automatic portrait review (local Rekognition)",
            "",
            "Command: `.venv/bin/python bench/portrait_review.py`; gallery.portrait_review.review with "
            "DetectFaces answered by the local face engine.  ",
            f"Portraits: {counts['demo']} bundled (local/gallery_local/demo/portraits), {counts['shared']} "
            f"from ../shared/data/portraits, every theme{shared_note}.  ",
            f"Thresholds: face height >= {portrait_review.MIN_FACE_HEIGHT} of the picture's, a second "
            f"face >= {portrait_review.SECOND_FACE_RATIO} of the main face's height is SeveralFaces, "
            f"margin {portrait_review.CUT_OFF_MARGIN} of the face box, Brightness >= "
            f"{portrait_review.MIN_BRIGHTNESS:g}, Sharpness >= {portrait_review.MIN_SHARPNESS:g}, "
            f"|yaw| <= {face_checks.MAX_YAW:g}, |pitch| <= {face_checks.MAX_PITCH:g}.  ",
            f"Machine: {platform.machine()}, Python {platform.python_version()}; measured "
            f"{time.strftime('%Y-%m-%d %H:%M')}.",
            "",
            f"| result | portraits (of {total}) | operator's sentence |",
            "|---|---|---|",
            *summary,
            "",
            "| from | portrait | size | face height | yaw | pitch | Brightness | Sharpness | EyesOpen | result |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    print(md)
    if not args.no_write:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import results_file

        results_file.write_section("portrait-review", md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
