#!/usr/bin/env python3
"""Measure the face engine's swap quality and speed.

Every visitor photo (cropped as the crop step does: largest face, box padded
by 0.5 of its size on each side) against every usable portrait (resized to
1024 px on the long side), for every theme, through swap then restore.
Identity is measured with dlib's ResNet embedding from face-recognition-models
(measurement only; the engine never uses it).

    .venv/bin/python bench/swap_quality.py [--quick] [--photos DIR] [--portraits DIR]

Prints a markdown block, writes it to bench/out/results.md, and writes a
contact sheet per theme to bench/out/contact-<theme>.png.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "containers" / "face"))

from face_engine import checks, engine, pipeline  # noqa: E402
from face_engine.detect import detect_faces  # noqa: E402
from face_engine.errors import Refused  # noqa: E402
from face_engine.mesh import face_region_mask  # noqa: E402

THEMES = pipeline.THEMES
STAGES = ["detect", "warp", "colour", "blend", "restore.detect", "restore", "harmonise"]


def load(path: Path, max_side: int | None = None) -> np.ndarray:
    im: Image.Image = Image.open(path)  # an ImageFile, then plain Images below
    if im.mode in ("RGBA", "LA", "P"):
        im = im.convert("RGBA")
        bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(bg, im)
    im = im.convert("RGB")
    if max_side and max(im.size) > max_side:
        s = max_side / max(im.size)
        im = im.resize((round(im.width * s), round(im.height * s)), Image.Resampling.LANCZOS)
    return np.asarray(im).copy()


def crop_like_the_crop_step(rgb: np.ndarray) -> np.ndarray | None:
    faces = detect_faces(rgb)
    if not faces:
        return None
    x, y, w, h = faces[0].box
    h_img, w_img = rgb.shape[:2]
    x0, y0 = max(0, int(x - 0.5 * w)), max(0, int(y - 0.5 * h))
    x1, y1 = min(w_img, int(x + 1.5 * w)), min(h_img, int(y + 1.5 * h))
    return rgb[y0:y1, x0:x1].copy()


def identities(embs: dict[str, np.ndarray], same: float = 0.5) -> dict[str, str]:
    """Label photos of the same person alike: single-linkage on embedding distance.

    File names are not trusted (two_people.jpg is Obama once the crop step
    picks the largest face). 0.5 sits between dlib's same-person (0.05-0.4
    here) and different-person (0.68+) distances.
    """
    names = sorted(embs)
    parent = {n: n for n in names}

    def root(n: str) -> str:
        while parent[n] != n:
            n = parent[n]
        return n

    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if float(np.linalg.norm(embs[a] - embs[b])) < same:
                parent[root(b)] = root(a)
    return {n: Path(root(n)).stem for n in names}


class Identity:
    def __init__(self) -> None:
        import dlib
        import face_recognition_models as frm

        self.dlib = dlib
        self.hog = dlib.get_frontal_face_detector()
        self.sp = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
        self.net = dlib.face_recognition_model_v1(frm.face_recognition_model_location())

    def embed(self, rgb: np.ndarray, around: tuple[float, float, float, float] | None = None) -> np.ndarray | None:
        """128-d embedding of the largest face (or the face inside `around`, a box x, y, w, h)."""
        if around is not None:
            x, y, w, h = around
            x0, y0 = max(0, int(x - w)), max(0, int(y - h))
            rgb = rgb[y0 : int(y + 2 * h), x0 : int(x + 2 * w)]
        # HOG wants faces of ~80+ px; bring the crop to a standard size.
        s = 480 / max(rgb.shape[:2])
        if abs(s - 1) > 0.05:
            rgb = cv2.resize(rgb, None, fx=s, fy=s, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)
        rgb = np.ascontiguousarray(rgb)
        rects, scores, _ = self.hog.run(rgb, 0, 0.0)
        good = [r for r, sc in zip(rects, scores, strict=True) if sc >= 0.3]
        if good:
            rect = max(good, key=lambda r: r.area())
        else:
            faces = detect_faces(rgb)
            if not faces:
                return None
            m = faces[0].mesh
            rect = self.dlib.rectangle(int(m[234, 0]), int(m[151, 1]), int(m[454, 0]), int(m[152, 1]))
        shape = self.sp(rgb, rect)
        return np.array(self.net.compute_face_descriptor(rgb, shape))


def image_paths(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


def load_visitors(
    photo_paths: list[Path], ident: Identity
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray, str]], dict[str, str], list[tuple[str, np.ndarray]]]:
    """Visitor crops by file name as (crop, embedding, identity label), refused photos (name: reason),
    and the gallery for top-1 retrieval: every visitor photo's own face as (label, embedding)."""
    visitors: dict[str, tuple[np.ndarray, np.ndarray, str]] = {}
    refused_photos: dict[str, str] = {}
    crops: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for p in photo_paths:
        crop = crop_like_the_crop_step(load(p))
        emb = ident.embed(crop) if crop is not None else None
        if crop is None or emb is None:
            refused_photos[p.name] = "NoFaceDetected"
            continue
        crops[p.name] = (crop, emb)
    labels = identities({k: e for k, (_, e) in crops.items()})
    gallery = [(labels[k], e) for k, (_, e) in crops.items()]
    for k, (crop, emb) in crops.items():
        visitors[k] = (crop, emb, labels[k])
    return visitors, refused_photos, gallery


def load_portraits(
    portrait_paths: list[Path], ident: Identity, size: int
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], dict[str, str]]:
    """Usable portraits by file name as (image at `size` px, embedding, face region mask), and the
    refused ones (name: reason)."""
    portraits: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    refused_portraits: dict[str, str] = {}
    for p in portrait_paths:
        img = load(p, size)
        faces = detect_faces(img)
        reason = "NoFaceDetected" if not faces else checks.problem(faces[0])
        if reason:
            refused_portraits[p.name] = reason
            continue
        emb = ident.embed(img, faces[0].box)
        if emb is None:  # no d(portrait) to measure: the bench's own limit, not the review's
            refused_portraits[p.name] = "bench: dlib cannot embed its face"
            continue
        region = face_region_mask(faces[0].mesh, img.shape[:2])
        portraits[p.name] = (img, emb, region)
    return portraits, refused_portraits


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def face_zoom(img: np.ndarray, box: tuple[float, float, float, float], height: int) -> np.ndarray:
    x, y, w, h = box
    x0, y0 = max(0, int(x - 0.35 * w)), max(0, int(y - 0.35 * h))
    crop = img[y0 : int(y + 1.35 * h), x0 : int(x + 1.35 * w)]
    s = height / crop.shape[0]
    return cv2.resize(crop, (max(1, round(crop.shape[1] * s)), height), interpolation=cv2.INTER_AREA)


def contact_sheet(cells: list[tuple[str, list[np.ndarray]]], path: Path, per_row: int = 4) -> None:
    """Each cell: label + [visitor crop, portrait face, result face] side by side.

    The images of a cell may differ in height, and so may cells: each is padded (black) at the bottom."""
    strips = []
    for label, imgs in cells:
        ih = max(i.shape[0] for i in imgs)
        strip = np.concatenate([np.pad(i, ((0, ih - i.shape[0]), (0, 0), (0, 0))) for i in imgs], axis=1)
        pil = Image.fromarray(strip)
        ImageDraw.Draw(pil).text((4, 4), label, fill=(255, 255, 0))
        strips.append(np.asarray(pil))
    if not strips:
        return
    w = max(s.shape[1] for s in strips)
    h = max(s.shape[0] for s in strips)
    strips = [np.pad(s, ((0, h - s.shape[0]), (0, w - s.shape[1] + 6), (0, 0))) for s in strips]
    rows = []
    for i in range(0, len(strips), per_row):
        row = strips[i : i + per_row]
        row += [np.zeros((h, w + 6, 3), np.uint8)] * (per_row - len(row))
        rows.append(np.pad(np.concatenate(row, axis=1), ((0, 6), (0, 0), (0, 0))))
    Image.fromarray(np.concatenate(rows, axis=0)).save(path, optimize=False, compress_level=3)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=Path, default=REPO.parent / "shared" / "data" / "photos")
    ap.add_argument("--portraits", type=Path, default=REPO.parent / "shared" / "data" / "portraits")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "out")
    ap.add_argument("--size", type=int, default=1024, help="portrait long side in px")
    ap.add_argument("--quick", action="store_true", help="3 photos x 3 portraits, for smoke runs")
    ap.add_argument("--themes", nargs="*", default=list(THEMES))
    args = ap.parse_args()
    cv2.setNumThreads(1)  # the target is single-core time
    args.out.mkdir(parents=True, exist_ok=True)
    ident = Identity()

    photo_paths, portrait_paths = image_paths(args.photos), image_paths(args.portraits)
    if args.quick:
        photo_paths, portrait_paths = photo_paths[:3], portrait_paths[:3]
    visitors, refused_photos, gallery = load_visitors(photo_paths, ident)
    portraits, refused_portraits = load_portraits(portrait_paths, ident, args.size)

    per_theme: dict[str, dict[str, list]] = {t: defaultdict(list) for t in args.themes}
    cells: dict[str, list] = {t: [] for t in args.themes}
    swap_refusals: dict[str, str] = {}
    rows = ["photo,portrait,theme,d_visitor,d_portrait,nearest,total_ms,outside,detected"]
    for vname, (crop, v_emb, label) in visitors.items():
        for pname, (pimg, p_emb, region) in portraits.items():
            for theme in args.themes:
                # Time each pair from cold: no cached portrait detection.
                pipeline._cache.clear()
                t0 = time.perf_counter()
                try:
                    swapped, t_swap, mesh = engine.swap(crop, pimg, theme)
                except Refused as r:
                    swap_refusals[vname] = r.reason
                    continue
                # As the server does: the swap's PNG carries the face mesh to restore.
                result, t_rest = engine.restore(swapped, theme, mesh)
                total_ms = (time.perf_counter() - t0) * 1000
                m = per_theme[theme]
                for k in ("detect", "warp", "colour", "blend"):
                    m[k].append(t_swap.get(k, 0.0))
                m["restore.detect"].append(t_rest.get("detect", 0.0))
                m["restore"].append(t_rest.get("restore", 0.0))
                m["harmonise"].append(t_rest.get("harmonise", 0.0))
                m["total"].append(total_ms)
                m["outside"].append(int(np.abs(result.astype(int) - pimg)[~region].max(initial=0)))
                faces = detect_faces(result)
                m["detected"].append(bool(faces))
                r_emb = ident.embed(result, detect_faces(pimg)[0].box)
                if r_emb is None:
                    m["embedded"].append(False)
                    continue
                m["embedded"].append(True)
                d_vis = float(np.linalg.norm(r_emb - v_emb))
                m["d_vis"].append(d_vis)
                m["d_por"].append(float(np.linalg.norm(r_emb - p_emb)))
                nearest = min(gallery, key=lambda g: float(np.linalg.norm(g[1] - r_emb)))[0]
                m["top1"].append(nearest == label)
                rows.append(
                    f"{vname},{pname},{theme},{d_vis:.3f},{m['d_por'][-1]:.3f},{nearest},{total_ms:.1f},"
                    f"{m['outside'][-1]},{int(m['detected'][-1])}"
                )
                zoom_box = detect_faces(pimg)[0].box
                vis = cv2.resize(crop, (round(crop.shape[1] * 160 / crop.shape[0]), 160), interpolation=cv2.INTER_AREA)
                cells[theme].append(
                    (
                        f"{Path(vname).stem[:12]}>{Path(pname).stem[:12]} d={d_vis:.2f}",
                        [vis, face_zoom(pimg, zoom_box, 160), face_zoom(result, zoom_box, 160)],
                    )
                )

    lines = [
        "## Face engine swap quality",
        "",
        "Command: `make bench-quality` (`.venv/bin/python bench/swap_quality.py"
        + (" --quick" if args.quick else "")
        + f"`); measured {time.strftime('%Y-%m-%d %H:%M')}.",
        "",
    ]
    lines.append(
        f"{len(visitors)} visitor photos x {len(portraits)} usable portraits x {len(args.themes)} themes; "
        f"portraits at {args.size} px, single-threaded (cv2.setNumThreads(1))."
    )
    if refused_portraits:
        lines.append("Portraits refused by review: " + ", ".join(f"{k} ({v})" for k, v in refused_portraits.items()))
    if refused_photos or swap_refusals:
        refused = {**refused_photos, **swap_refusals}
        lines.append("Photos refused: " + ", ".join(f"{k} ({v})" for k, v in refused.items()))
    lines += [
        "",
        "| theme | n | median d(visitor) | p90 d(visitor) | d(portrait) > 0.6 | top-1 retrieval "
        "| face detected | max change outside |",
        "|---|---|---|---|---|---|---|---|",
    ]
    all_m: dict[str, list] = defaultdict(list)
    for theme in args.themes:
        m = per_theme[theme]
        for k, v in m.items():
            all_m[k] += v
        lines.append(_row(theme, m))
    lines.append(_row("**all**", all_m))
    lines += [
        "",
        "Time per stage per image, ms (median / p90):",
        "",
        "| " + " | ".join(STAGES + ["total"]) + " |",
        "|" + "---|" * (len(STAGES) + 1),
    ]
    lines.append(
        "| "
        + " | ".join(f"{statistics.median(all_m[s]):.1f} / {pct(all_m[s], 90):.1f}" for s in STAGES + ["total"])
        + " |"
    )
    md = "\n".join(lines)
    print(md)
    (args.out / "results.md").write_text(md + "\n")
    if not args.quick:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import results_file

        results_file.write_section("swap-quality", md)
    (args.out / "pairs.csv").write_text("\n".join(rows) + "\n")
    for theme in args.themes:
        contact_sheet(cells[theme], args.out / f"contact-{theme}.png")
    return 0


def _row(name: str, m: dict[str, list]) -> str:
    n = len(m["total"])
    if not n:
        return f"| {name} | 0 | | | | | | |"
    share = lambda xs: 100.0 * sum(xs) / max(1, len(xs))  # noqa: E731
    return (
        f"| {name} | {n} | {statistics.median(m['d_vis']):.3f} | {pct(m['d_vis'], 90):.3f} "
        f"| {share([d > 0.6 for d in m['d_por']]):.1f}% | {share(m['top1']):.1f}% "
        f"| {share(m['detected']):.1f}% | {max(m['outside'])} |"
    )


if __name__ == "__main__":
    sys.exit(main())
