"""Skin tone (ITA°) of every photo and portrait in ../shared/data, against the tone the sources state.

Faces and eyes come from dlib (frontal detector and its 68-point model, dev dependencies); the
largest face is measured with gallery.skin_tone.estimate. Writes the "skin-tone" section of
bench/RESULTS.md and, with --sheet PATH, a contact sheet of the sampled patches.

    .venv/bin/python bench/skin_tone.py [--sheet /tmp/skin_sheet.png]
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageOps

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers/gallery/python"))
from gallery import skin_tone  # noqa: E402

DATA = ROOT.parent / "shared/data"
# Groups the sources make plain (SOURCES-2.md descriptions, or the photo itself), as the set of
# groups that would count as agreeing: photos of one person vary by a band with the lighting.
EXPECTED: dict[str, set[int] | None] = {
    "nasa-sally-ride-1984.jpg": {1, 2, 3},
    "usnavy-grace-hopper.jpg": {1, 2, 3},
    "pexels-638700-woman-red-top.jpg": {1, 2, 3},
    "nasa-ellen-ochoa.jpg": {2, 3, 4},
    "nasa-mae-jemison.jpg": {4, 5, 6},
    "harriet-tubman-c1885.jpg": None,  # an old print: sepia, not skin
    "nasa-katherine-johnson-1966.jpg": None,  # greyscale: must say so
    "marie-curie-c1920.jpg": None,  # greyscale
    "obama.jpg": {4, 5},
    "obama2.jpg": {4, 5},
    "obama3.jpg": {4, 5},
    "biden.jpg": {1, 2, 3},
    "biden2.jpg": {1, 2, 3},
}


@functools.cache
def _dlib_models() -> tuple[Any, Any]:
    """dlib's frontal face detector and 68-point shape predictor, loaded once (dlib is untyped)."""
    import dlib
    import face_recognition_models

    predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_model_location())
    return dlib.get_frontal_face_detector(), predictor


def faces(img: Image.Image) -> tuple[tuple[float, float, float, float], dict] | None:
    _detector, _predictor = _dlib_models()
    scale = min(1.0, 1000 / max(img.size))
    probe = img.convert("RGB").resize((round(img.width * scale), round(img.height * scale)))
    arr = np.asarray(probe)
    rects = _detector(arr, 1)
    if not rects:
        return None
    r = max(rects, key=lambda r: r.width() * r.height())
    pts = _predictor(arr, r)
    p = np.array([(pts.part(i).x, pts.part(i).y) for i in range(68)], dtype=float) / scale
    box = (r.left() / scale, r.top() / scale, r.right() / scale, r.bottom() / scale)
    return box, {"eyeLeft": p[36:42].mean(axis=0), "eyeRight": p[42:48].mean(axis=0)}


def tile(img: Image.Image, box: tuple, landmarks: dict, res: dict, name: str) -> Image.Image:
    """The face with its sampled patches outlined, 220 px, labelled."""
    rgb = img.convert("RGB")
    draw = ImageDraw.Draw(rgb)
    for b in skin_tone.skin_patches(rgb.size, box, landmarks):
        draw.rectangle(b, outline=(0, 255, 0), width=max(2, rgb.width // 300))
    left, top, right, bottom = box
    pad = 0.4 * (right - left)
    face = rgb.crop((int(left - pad), int(top - pad), int(right + pad), int(bottom + pad)))
    face = ImageOps.fit(face, (220, 220))
    out = Image.new("RGB", (220, 250), "white")
    out.paste(face, (0, 0))
    d = ImageDraw.Draw(out)
    label = f"{res['ita']} g{res['group']} {res['confidence']}" if res["ita"] is not None else res["reason"]
    d.text((3, 222), name[:34], fill="black")
    d.text((3, 236), label, fill="black")
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sheet", type=Path)
    args = ap.parse_args()
    paths = sorted((DATA / "photos").glob("*")) + sorted(p for p in (DATA / "portraits").glob("*") if p.is_file())
    rows, tiles, agree, judged = [], [], 0, 0
    for path in paths:
        img = ImageOps.exif_transpose(Image.open(path))
        found = faces(img)
        if found is None:
            rows.append(f"| {path.parent.name}/{path.name} | no face found | | | | |")
            continue
        box, landmarks = found
        res = skin_tone.estimate(img, box, landmarks)
        expected = EXPECTED.get(path.name, "?")
        if expected == "?":
            verdict = ""
        elif expected is None:
            verdict = "yes" if res["ita"] is None else "no (expected no tone)"
        else:
            verdict = "yes" if res["group"] in expected else f"no (expected {sorted(expected)})"
        if verdict:
            judged += 1
            agree += verdict == "yes"
        ita = "—" if res["ita"] is None else f"{res['ita']:.1f}"
        group = res["reason"] if res["group"] is None else f"{res['group']} {res['group_name']}"
        print(f"{path.parent.name}/{path.name:45s} ITA {ita:>6} {group:18s} {res['confidence']:6s} {verdict}")
        rows.append(
            f"| {path.parent.name}/{path.name} | {ita} | {group} | {res['confidence']} | {res['pixels']} | {verdict} |"
        )
        tiles.append(tile(img, box, landmarks, res, path.name))
    summary = f"Agrees with the stated or evident tone on {agree} of {judged} judged images."
    print(summary)
    md = "\n".join(
        [
            "## Skin tone (ITA°)",
            "",
            "`bench/skin_tone.py`: dlib face and eyes, then `gallery.skin_tone.estimate` (cheeks and forehead,",
            "median L* and b*). Expected groups come from the sources' descriptions; photos of one person",
            "are allowed a band either way because lighting moves ITA.",
            "",
            "| image | ITA° | group | confidence | skin px | agrees |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            summary,
        ]
    )
    sys.path.insert(0, str(ROOT / "bench"))
    import results_file

    results_file.write_section("skin-tone", md)
    if args.sheet and tiles:
        cols = 6
        sheet = Image.new("RGB", (220 * cols, 250 * ((len(tiles) + cols - 1) // cols)), "white")
        for i, t in enumerate(tiles):
            sheet.paste(t, ((i % cols) * 220, (i // cols) * 250))
        sheet.save(args.sheet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
