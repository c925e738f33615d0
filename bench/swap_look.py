#!/usr/bin/env python3
"""Measure how seamless and colour-true the face swap's results are, and their identity.

Every visitor photo x every usable portrait (the shared ones, the drawn portraits of
portraits/animation/ included and marked "drawn") x every theme, through
engine.swap then engine.restore (the model server's entry points), as bench/swap_quality.py runs
them; its crop, portrait loading and review, dlib identity and contact sheets are reused, not copied.

    .venv/bin/python bench/swap_look.py [--label before|after|NAME] [--quick] [--photos DIR]
        [--portraits DIR] [--themes T ...] [--sheet-pairs K] [--engine-rev REV]

Metrics (an outside scorer's definitions, whose code we do not have, as read here):

seam
    The region the swap changed: pixels where result and portrait differ by more than
    CHANGE_TOL (2) levels in any RGB channel, cleaned by a 3x3 opening then a 7x7 closing
    (elliptical kernels), keeping the connected components (8-connected) of at least 1 % of the
    largest one's area. Its border: the internal morphological gradient of that mask (the mask
    minus its 3x3 erosion: the outermost 1-px ring of changed pixels, holes' edges included; the
    image's own edge is not a border). The band: that ring dilated by a 3x3 square, 3 px wide,
    straddling the edge (one pixel outside the region, the ring, one pixel inside). Gradient
    magnitude G: Sobel, ksize 3, on grayscale (0.299 R + 0.587 G + 0.114 B as float 0..255),
    sqrt(gx^2 + gy^2). Per pair: seam = (mean G(result) on the band + EPS) / (mean G(portrait) on
    the band + EPS) with EPS = 1.0 (a quarter of Sobel's response to a one-level step) on both
    sides, so that a flat portrait band under a flat result reads 1 instead of blowing up, and an
    untouched band reads exactly 1. No ratio when nothing changed. Target: p90 <= 1.05.
colour
    CIEDE2000 (skimage.color.deltaE_ciede2000, kL = kC = kH = 1) between the mean skin colour of
    the result and of the portrait: CIELAB under D65 (sRGB to Lab per pixel with
    gallery.skin_tone.srgb_to_lab, then the mean), over the same pixels in both images: the two
    cheek patches and the forehead patch that gallery.skin_tone samples (skin_tone.skin_patches),
    placed with the portrait's face box and eye centres from face_engine.detect.detect_faces on
    the portrait. Within those patches only the pixels that are skin in the portrait count, by
    skin_tone.estimate's rule less its L* trim (a* > 0, b* > 0, hue 15..85 degrees, C*ab > 2, and
    within 3 MADs of those pixels' median Lab, which drops brown hair, brows and deep shadow), or
    all of them when fewer than 35 % are (a greyscale portrait). Skin-tone groups: skin_tone.estimate
    on the visitor's crop and on the portrait, each with its own face box and eye centres from
    detect_faces, kept only at the confidence the crop step keeps (high or medium); a pair
    "shares a group" when both have one and it is the same. Reported over the pairs that share
    a group (targets: median <= 2.0, p90 <= 3.5), and over all pairs as an extra column (there
    the engine should keep the visitor's own tone, so a large figure is not a fault by itself).
identity
    dlib distance result-to-visitor (median, p90) and top-1 retrieval among the visitor photos,
    as bench/swap_quality.py measures them.
time
    Median ms per image for swap + restore, single-threaded (cv2.setNumThreads(1)), from cold
    (the engine's portrait-detection cache cleared before each pair).

Prints a markdown block, writes it to bench/out/look.md and (not with --quick) to the section
swap-look-<label> of bench/RESULTS.md, so that a "before" and an "after" run are both kept; writes
every pair to bench/out/look-pairs.csv and a contact sheet per theme to bench/out/look-<theme>.png:
visitor crop (scaled to the cell's height) | portrait face | result face, both faces cut from the
same box at native resolution (never scaled), labelled with seam and colour (dE, "=" when the pair
shares a group); every portrait once with the visitor rotating (--sheet-pairs K: K visitors each).

--engine-rev REV measures containers/face as committed at REV (extracted with git archive to a
temporary folder) instead of the working tree's, for a "before" figure while the engine changes.
"""

from __future__ import annotations

import argparse
import atexit
import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image
from skimage.color import deltaE_ciede2000

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DATA = REPO.parent / "shared" / "data"
sys.path.insert(0, str(REPO / "layers" / "gallery" / "python"))

from gallery import skin_tone  # noqa: E402
from gallery.crop import SKIN_TONE_CONFIDENCE  # noqa: E402

CHANGE_TOL = 2  # levels (0..255) in any channel: the region the swap changed
OPEN_PX, CLOSE_PX = 3, 7  # clean-up of that region: speckle off, pinholes filled
MIN_COMPONENT = 0.01  # of the largest component's area
BAND_PX = 3  # width of the band along the region's border
EPS = 1.0  # Sobel units, added to both mean gradients
SKIN_KEPT_MIN = 0.35  # share of patch pixels that must be skin-hued to average only those
THEMES = ("realistic", "painting", "travel", "animation")
TARGETS = "seam p90 <= 1.05; colour (same group) median <= 2.0, p90 <= 3.5"


# --- seam ---------------------------------------------------------------------------------------


def _ellipse(k: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))


def changed_region(result: np.ndarray, portrait: np.ndarray, tol: int = CHANGE_TOL) -> np.ndarray:
    """bool HxW: where result differs from portrait by more than `tol` in any channel, cleaned."""
    diff = np.abs(result.astype(np.int16) - portrait.astype(np.int16)).max(axis=2) > tol
    m = cv2.morphologyEx(diff.astype(np.uint8), cv2.MORPH_OPEN, _ellipse(OPEN_PX))
    m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, _ellipse(CLOSE_PX))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    if n <= 1:
        return np.zeros(diff.shape, bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.flatnonzero(areas >= MIN_COMPONENT * areas.max()) + 1
    return np.isin(labels, keep)


def seam_band(region: np.ndarray, width: int = BAND_PX) -> np.ndarray:
    """bool HxW: the region's 1-px internal morphological gradient, dilated to `width` px."""
    m = region.astype(np.uint8)
    # erode() pads with the maximum, so the image's own edge does not count as a border.
    ring = m - cv2.erode(m, np.ones((3, 3), np.uint8))
    return cv2.dilate(ring, np.ones((width, width), np.uint8)) > 0


def gradient_magnitude(rgb: np.ndarray) -> np.ndarray:
    """float32 HxW: Sobel (ksize 3) gradient magnitude of the grayscale image (0..255 scale)."""
    gray = cv2.cvtColor(rgb.astype(np.float32), cv2.COLOR_RGB2GRAY)
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    return cv2.magnitude(gx, gy)


@dataclass
class Seam:
    ratio: float
    g_result: float  # mean gradient magnitude of the result on the band
    g_portrait: float  # the portrait's, on the same band
    band_px: int
    changed_px: int


def seam_ratio(result: np.ndarray, portrait: np.ndarray) -> Seam | None:
    """The seam figure of one result against its portrait (module docstring); None when unchanged.

    Only the changed region's bounding box (plus a margin for the band and Sobel) is filtered."""
    region = changed_region(result, portrait)
    if not region.any():
        return None
    ys, xs = np.nonzero(region)
    pad = BAND_PX + 2
    y0, x0 = max(0, ys.min() - pad), max(0, xs.min() - pad)
    y1, x1 = min(region.shape[0], ys.max() + pad + 1), min(region.shape[1], xs.max() + pad + 1)
    band = seam_band(region[y0:y1, x0:x1])
    if not band.any():
        return None
    g_r = float(gradient_magnitude(result[y0:y1, x0:x1])[band].mean())
    g_p = float(gradient_magnitude(portrait[y0:y1, x0:x1])[band].mean())
    return Seam((g_r + EPS) / (g_p + EPS), g_r, g_p, int(band.sum()), int(region.sum()))


# --- colour -------------------------------------------------------------------------------------


def eyes_of(face: Any) -> dict[str, tuple[float, float]]:
    """The eye centres of a face_engine Face, by Rekognition's names (as skin_tone takes them)."""
    return {k: face.keypoints[k] for k in ("eyeLeft", "eyeRight") if k in face.keypoints}


def ltrb(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """face_engine's (x, y, w, h) box as skin_tone's (left, top, right, bottom)."""
    x, y, w, h = box
    return x, y, x + w, y + h


def skin_sample(
    portrait: np.ndarray, face_box: tuple[float, float, float, float], eyes: dict | None = None
) -> np.ndarray:
    """bool HxW: the pixels whose mean is the skin colour, chosen on the portrait (module docstring).

    face_box is (left, top, right, bottom) in pixels; eyes as skin_tone.skin_patches takes them."""
    h, w = portrait.shape[:2]
    patches = np.zeros((h, w), bool)
    for x0, y0, x1, y1 in skin_tone.skin_patches((w, h), face_box, eyes or None):
        patches[y0:y1, x0:x1] = True
    if not patches.any():
        return patches
    lab = skin_tone.srgb_to_lab(portrait[patches])
    a, b = lab[:, 1], lab[:, 2]
    hue = np.degrees(np.arctan2(b, a))
    skin = (a > 0) & (b > 0) & (hue > 15) & (hue < 85) & (np.hypot(a, b) > skin_tone.MONOCHROME_CHROMA / 2)
    if skin.sum() >= 10:
        # Near the robust centre: brown hair and deep shadow are skin-hued but far in L*.
        centre = np.median(lab[skin], axis=0)
        mad = np.median(np.abs(lab[skin] - centre), axis=0) * 1.4826 + 1.0
        skin &= np.all(np.abs(lab - centre) < 3 * mad, axis=1)
    if skin.mean() < SKIN_KEPT_MIN:
        return patches
    out = np.zeros((h, w), bool)
    out[patches] = skin
    return out


def mean_lab(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean CIELAB (D65) of the masked sRGB pixels (converted per pixel, then averaged)."""
    return skin_tone.srgb_to_lab(rgb[mask]).mean(axis=0)


def ciede2000(lab1: Any, lab2: Any) -> float:
    """CIEDE2000 colour difference of two CIELAB colours (scikit-image, kL = kC = kH = 1)."""
    return float(deltaE_ciede2000(np.asarray(lab1, np.float64), np.asarray(lab2, np.float64)))


def tone_group(rgb: np.ndarray, face: Any) -> int | None:
    """Skin-tone group (1..6) as the crop step keeps it (high or medium confidence), else None."""
    measured = skin_tone.estimate(Image.fromarray(rgb), ltrb(face.box), eyes_of(face) or None)
    if measured["group"] is None or measured["confidence"] not in SKIN_TONE_CONFIDENCE:
        return None
    return int(measured["group"])


# --- the run ------------------------------------------------------------------------------------


def use_engine(rev: str | None) -> str:
    """Make `import face_engine` load the engine to measure; returns a line that says which."""

    def git(*a: str) -> str:
        return subprocess.run(["git", "-C", str(REPO), *a], capture_output=True, text=True, check=True).stdout.strip()

    if rev is None:
        sha = git("rev-parse", "--short", "HEAD")
        dirty = bool(git("status", "--porcelain", "--", "containers/face"))
        return f"the working tree's containers/face (HEAD {sha}" + (", with uncommitted changes)" if dirty else ")")
    sha = git("rev-parse", "--short", f"{rev}^{{commit}}")
    last = git("log", "-1", "--format=%h", sha, "--", "containers/face")
    tmp = Path(tempfile.mkdtemp(prefix="swap-look-engine-"))
    atexit.register(shutil.rmtree, tmp, True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", sha, "containers/face"], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tmp, filter="data")
    sys.path.insert(0, str(tmp / "containers" / "face"))
    import face_engine  # swap_quality's own path insert comes later and finds it already loaded

    assert Path(face_engine.__file__).resolve().is_relative_to(tmp.resolve()), face_engine.__file__
    return f"containers/face as committed at {rev} ({sha}; its last change there: {last}), extracted with git archive"


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def fmt(x: float, digits: int = 2) -> str:
    return "-" if x != x else f"{x:.{digits}f}"


def summary_row(name: str, recs: list[dict]) -> str:
    seams = [r["seam"] for r in recs if r["seam"] is not None]
    same = [r["de"] for r in recs if r["same_group"] and r["de"] is not None]
    every = [r["de"] for r in recs if r["de"] is not None]
    dvis = [r["d_vis"] for r in recs if r["d_vis"] is not None]
    top1 = [r["top1"] for r in recs if r["top1"] is not None]
    ms = [r["ms"] for r in recs]
    if not recs:
        return f"| {name} | 0 |" + " |" * 11
    return (
        f"| {name} | {len(recs)} | {fmt(statistics.median(seams) if seams else float('nan'))} "
        f"| {fmt(pct(seams, 90))} | {fmt(max(seams) if seams else float('nan'))} "
        f"| {len(same)} | {fmt(statistics.median(same) if same else float('nan'))} | {fmt(pct(same, 90))} "
        f"| {fmt(statistics.median(every) if every else float('nan'))} / {fmt(pct(every, 90))} "
        f"| {fmt(statistics.median(dvis) if dvis else float('nan'), 3)} | {fmt(pct(dvis, 90), 3)} "
        f"| {100.0 * sum(top1) / max(1, len(top1)):.1f}% | {statistics.median(ms):.1f} |"
    )


HEADER = [
    "| | pairs | seam median | seam p90 | seam max | same-group pairs | colour median | colour p90 "
    "| colour, all pairs (median / p90) | d(visitor) median | d(visitor) p90 | top-1 | ms / image |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
]


def face_crop(img: np.ndarray, box: tuple[float, float, float, float], margin: float = 0.2) -> np.ndarray:
    """The face box grown by `margin` of its size on each side, at native resolution."""
    x, y, w, h = box
    x0, y0 = max(0, int(x - margin * w)), max(0, int(y - margin * h))
    return img[y0 : int(y + (1 + margin) * h) + 1, x0 : int(x + (1 + margin) * w) + 1]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--label", default="latest", help="RESULTS.md section swap-look-<label> (before, after, ...)")
    ap.add_argument("--photos", type=Path, default=DATA / "photos")
    ap.add_argument(
        "--portraits",
        type=Path,
        default=DATA / "portraits",
        help="a folder of portraits; its animation/ subfolder's are added as drawn ones",
    )
    ap.add_argument("--themes", nargs="*", default=list(THEMES))
    ap.add_argument("--quick", action="store_true", help="3 photos x 3 portraits, no RESULTS.md write")
    ap.add_argument("--sheet-pairs", type=int, default=1, help="visitors per portrait on the contact sheets")
    ap.add_argument("--engine-rev", help="measure containers/face as committed at this git revision")
    ap.add_argument("--size", type=int, default=1024, help="portrait long side in px")
    ap.add_argument("--out", type=Path, default=BENCH / "out")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for folder in (args.photos, args.portraits):
        if not folder.is_dir():
            print(
                f"swap_look: {folder} is missing. The benchmark needs the shared data (visitor photos in "
                f"{DATA / 'photos'}, portraits in {DATA / 'portraits'}) or --photos/--portraits.",
                file=sys.stderr,
            )
            return 2
    t_run = time.perf_counter()
    engine_line = use_engine(args.engine_rev)
    sys.path.insert(0, str(BENCH))
    import results_file
    import swap_quality as sq

    from face_engine import engine, pipeline
    from face_engine.detect import detect_faces
    from face_engine.errors import Refused

    cv2.setNumThreads(1)  # the target is single-core time
    args.out.mkdir(parents=True, exist_ok=True)
    ident = sq.Identity()

    photo_paths = sq.image_paths(args.photos)
    painted = sq.image_paths(args.portraits)
    drawn_dir = args.portraits / "animation"
    drawn_paths = sq.image_paths(drawn_dir) if drawn_dir.is_dir() else []
    if args.quick:
        photo_paths, painted, drawn_paths = photo_paths[:3], painted[: 3 - min(1, len(drawn_paths))], drawn_paths[:1]
    drawn = {p.name for p in drawn_paths}
    if drawn & {p.name for p in painted}:
        print(f"swap_look: {sorted(drawn & {p.name for p in painted})} named alike in both folders", file=sys.stderr)
        return 2

    def pname_of(name: str) -> str:
        return f"animation/{name}" if name in drawn else name

    visitors, refused_photos, gallery = sq.load_visitors(photo_paths, ident)
    portraits, refused_portraits = sq.load_portraits(painted + drawn_paths, ident, args.size)

    v_group: dict[str, int | None] = {}
    for vname, (crop, _, _) in visitors.items():
        faces = detect_faces(crop)
        v_group[vname] = tone_group(crop, faces[0]) if faces else None
    p_info: dict[str, dict[str, Any]] = {}
    for pname, (pimg, _, _) in portraits.items():
        face = detect_faces(pimg)[0]
        sample = skin_sample(pimg, ltrb(face.box), eyes_of(face))
        p_info[pname] = {
            "box": face.box,
            "group": tone_group(pimg, face),
            "sample": sample,
            "lab": mean_lab(pimg, sample) if sample.any() else None,
        }

    vnames, pnames = list(visitors), list(portraits)
    on_sheet = (
        {
            (vnames[(i * args.sheet_pairs + j) % len(vnames)], p)
            for i, p in enumerate(pnames)
            for j in range(min(args.sheet_pairs, len(vnames)))
        }
        if vnames
        else set()
    )
    recs: list[dict[str, Any]] = []
    refusals: dict[str, str] = {}
    cells: dict[str, list] = {t: [] for t in args.themes}
    for vname, (crop, v_emb, label) in visitors.items():
        for pname, (pimg, _, _) in portraits.items():
            info = p_info[pname]
            for theme in args.themes:
                pipeline._cache.clear()  # from cold, as swap_quality.py times it
                t0 = time.perf_counter()
                try:
                    swapped, _, mesh = engine.swap(crop, pimg, theme)
                except Refused as refused:
                    refusals[f"{vname} > {pname_of(pname)}"] = refused.reason
                    continue
                result, _ = engine.restore(swapped, theme, mesh)
                ms = (time.perf_counter() - t0) * 1000
                seam = seam_ratio(result, pimg)
                de = ciede2000(mean_lab(result, info["sample"]), info["lab"]) if info["lab"] is not None else None
                same = v_group[vname] is not None and v_group[vname] == info["group"]
                r_emb = ident.embed(result, info["box"])
                d_vis = float(np.linalg.norm(r_emb - v_emb)) if r_emb is not None else None
                top1 = None
                if r_emb is not None:
                    top1 = min(gallery, key=lambda g: float(np.linalg.norm(g[1] - r_emb)))[0] == label
                recs.append(
                    {
                        "photo": vname,
                        "portrait": pname_of(pname),
                        "drawn": pname in drawn,
                        "theme": theme,
                        "ms": ms,
                        "seam": seam.ratio if seam else None,
                        "seam_obj": seam,
                        "de": de,
                        "v_group": v_group[vname],
                        "p_group": info["group"],
                        "same_group": same,
                        "d_vis": d_vis,
                        "top1": top1,
                    }
                )
                if (vname, pname) in on_sheet:
                    res_face = face_crop(result, info["box"])
                    hgt = res_face.shape[0]
                    vis = cv2.resize(
                        crop,
                        (max(1, round(crop.shape[1] * hgt / crop.shape[0])), hgt),
                        interpolation=cv2.INTER_AREA if crop.shape[0] > hgt else cv2.INTER_CUBIC,
                    )
                    mark = "=" if same else ""
                    de_txt = "-" if de is None else f"{de:.1f}"
                    cells[theme].append(
                        (
                            f"{Path(vname).stem[:14]} > {Path(pname).stem[:18]}{' (drawn)' if pname in drawn else ''}"
                            f"  seam={fmt(seam.ratio if seam else float('nan'))} dE{mark}={de_txt}",
                            [vis, face_crop(pimg, info["box"]), res_face],
                        )
                    )

    run_min = (time.perf_counter() - t_run) / 60
    cmd = "make bench-look" if not args.quick else "bench/swap_look.py --quick"
    lines = [
        f"## Face swap look: seam, skin colour, identity ({args.label})",
        "",
        f"Command: `{cmd}` (`.venv/bin/python bench/swap_look.py {' '.join(argv or sys.argv[1:])}`); "
        f"measured {time.strftime('%Y-%m-%d %H:%M')}, {run_min:.1f} min in all.",
        f"Engine: {engine_line}.",
        "Load average at the end: "
        + " / ".join(f"{x:.1f}" for x in os.getloadavg())
        + f" (1 / 5 / 15 min) on {os.cpu_count()} cores; ms figures from a busy machine are not comparable "
        "with a quiet run's.",
        "",
        f"{len(visitors)} visitor photos x {len(portraits)} usable portraits "
        f"({sum(p in drawn for p in portraits)} of them drawn, from portraits/animation/) x {len(args.themes)} "
        f"themes = {len(recs)} results; portraits at {args.size} px, single-threaded. "
        "Definitions: bench/swap_look.py's docstring.",
        f"Targets: {TARGETS}.",
    ]
    if refused_portraits:
        lines.append(
            "Portraits refused by review: " + ", ".join(f"{pname_of(k)} ({v})" for k, v in refused_portraits.items())
        )
    if refused_photos:
        lines.append("Photos refused: " + ", ".join(f"{k} ({v})" for k, v in refused_photos.items()))
    if refusals:
        lines.append("Swaps refused: " + ", ".join(f"{k} ({v})" for k, v in sorted(refusals.items())))
    lines.append(
        "Skin-tone groups (1..6; - none kept): visitors "
        + ", ".join(f"{Path(k).stem} {v_group[k] or '-'}" for k in visitors)
        + "; portraits "
        + ", ".join(f"{Path(pname_of(k)).stem} {p_info[k]['group'] or '-'}" for k in portraits)
        + "."
    )
    lines += ["", *HEADER]
    for theme in args.themes:
        lines.append(summary_row(theme, [r for r in recs if r["theme"] == theme]))
    lines.append(summary_row("**all**", recs))
    lines.append(summary_row("all, painted/photo portraits", [r for r in recs if not r["drawn"]]))
    lines.append(summary_row("all, drawn portraits", [r for r in recs if r["drawn"]]))
    seams = [r["seam"] for r in recs if r["seam"] is not None]
    same = [r["de"] for r in recs if r["same_group"] and r["de"] is not None]
    verdict = [
        f"seam p90 {fmt(pct(seams, 90))} ({'met' if pct(seams, 90) <= 1.05 else 'missed'})",
        f"colour median {fmt(statistics.median(same) if same else float('nan'))} "
        f"({'met' if same and statistics.median(same) <= 2.0 else 'missed'})",
        f"colour p90 {fmt(pct(same, 90))} ({'met' if same and pct(same, 90) <= 3.5 else 'missed'})",
    ]
    lines += ["", "Overall against the targets: " + "; ".join(verdict) + "."]
    worst_seam = sorted((r for r in recs if r["seam"] is not None), key=lambda r: -r["seam"])[:8]
    worst_de = sorted((r for r in recs if r["same_group"] and r["de"] is not None), key=lambda r: -r["de"])[:8]
    lines += [
        "",
        "Worst seams: "
        + ("; ".join(f"{r['photo']} > {r['portrait']} {r['theme']} {r['seam']:.2f}" for r in worst_seam) or "none")
        + ".",
    ]
    lines += [
        "Worst same-group colour: "
        + ("; ".join(f"{r['photo']} > {r['portrait']} {r['theme']} {r['de']:.1f}" for r in worst_de) or "none")
        + "."
    ]
    md = "\n".join(lines)
    print(md)
    (args.out / "look.md").write_text(md + "\n")
    if not args.quick:
        results_file.write_section(f"swap-look-{args.label}", md)
    cols = [
        "photo",
        "portrait",
        "drawn",
        "theme",
        "ms",
        "seam",
        "g_result",
        "g_portrait",
        "band_px",
        "changed_px",
        "v_group",
        "p_group",
        "same_group",
        "de00",
        "d_vis",
        "top1",
    ]
    rows = [",".join(cols)]
    for r in recs:
        s: Seam | None = r["seam_obj"]
        vals = [
            r["photo"],
            r["portrait"],
            int(r["drawn"]),
            r["theme"],
            f"{r['ms']:.1f}",
            *(
                (f"{s.ratio:.4f}", f"{s.g_result:.3f}", f"{s.g_portrait:.3f}", s.band_px, s.changed_px)
                if s
                else ("", "", "", "", 0)
            ),
            r["v_group"] or "",
            r["p_group"] or "",
            int(r["same_group"]),
            "" if r["de"] is None else f"{r['de']:.3f}",
            "" if r["d_vis"] is None else f"{r['d_vis']:.4f}",
            "" if r["top1"] is None else int(r["top1"]),
        ]
        rows.append(",".join(str(v) for v in vals))
    (args.out / "look-pairs.csv").write_text("\n".join(rows) + "\n")
    for theme in args.themes:
        sq.contact_sheet(cells[theme], args.out / f"look-{theme}.png", per_row=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
