"""`gallery demo`: photos go through the whole pipeline on the local stack, as from tablets."""

from __future__ import annotations

import mimetypes
import sys
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from gallery import visits as visit_records
from gallery_local import catalog_store, demo_catalog
from gallery_local.stack import LocalStack, Settings
from gallery_local.tablet import Tablet, Visit

DEMO = Path(__file__).resolve().parent / "demo"
BUNDLED = [  # (photo, display, theme, language): men and women, both languages
    ("visitor-a.jpg", 1, "painting", "ko"),
    ("visitor-d.jpg", 2, "realistic", "en"),
    ("visitor-c.jpg", 3, "travel", "ko"),
    ("visitor-e.jpg", 4, "animation", "ko"),
    ("visitor-b.jpg", 5, "travel", "en"),
    ("visitor-e.jpg", 6, "painting", "en"),
]


@dataclass
class Job:
    photo: Path
    display: int
    theme: str
    language: str | None = None  # None: the tablet's default


def bundled_jobs() -> list[Job]:
    return [Job(DEMO / "photos" / name, display, theme, language) for name, display, theme, language in BUNDLED]


def ensure_catalog(stack: LocalStack, themes: set[str]) -> None:
    """The catalog in the data folder when it has approved portraits of these themes; otherwise
    a small one made through the catalog workflow (and kept for the next run)."""
    missing = tuple(sorted(themes - demo_catalog.approved_themes(stack)))
    if not missing:
        return
    print(
        f"No approved portraits for {', '.join(missing)} in {stack.settings.data_dir}: generating"
        f" {demo_catalog.PER_THEME} per theme through the catalog workflow (local Bedrock and Polly),"
        " and approving what passes the automatic review...",
        file=sys.stderr,
        flush=True,
    )
    for theme, p in demo_catalog.build(stack, missing).items():
        print(f"  {theme}: {p.line()}", file=sys.stderr, flush=True)


def run(jobs: list[Job], out_dir: Path, concurrent: bool = False, details: list[dict] | None = None) -> list[Visit]:
    """Send the jobs' photos through the pipeline. With `details`, each visit's record (see
    `record`) is appended to it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with LocalStack(Settings(data_dir=catalog_store.DATA_DIR)) as stack:
        ensure_catalog(stack, {job.theme for job in jobs})
        tablets = {job.display: Tablet(stack, job.display) for job in jobs}

        def one(job: Job) -> Visit:
            ctype = mimetypes.guess_type(job.photo.name)[0] or "image/jpeg"
            visit = tablets[job.display].visit(job.photo.read_bytes(), job.theme, ctype, language=job.language)
            if visit.image:
                (out_dir / f"{visit.visit_id}-display{job.display}-{job.theme}.png").write_bytes(visit.image)
            return visit

        if concurrent:
            with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
                visits = list(pool.map(one, jobs))
        else:
            visits = [one(job) for job in jobs]
        if details is not None:
            details += [record(stack, v) for v in visits]
        return visits


def record(stack: LocalStack, visit: Visit) -> dict:
    """What `gallery demo --json` prints for one visit: how it ended, the portrait and how it
    matched the visitor (from the visit item, as an operator reads it), and the stage times."""
    item = stack.table("VisitsTable").get_item(Key={"visitId": visit.visit_id}, ConsistentRead=True).get("Item")
    item = visit_records.plain(item or {})
    match = item.get("match") or {}
    return {
        "visitId": visit.visit_id,
        "display": visit.display_id,
        "theme": visit.theme,
        "status": visit.status,
        "reason": item.get("reason") or visit.view.get("reason"),
        "language": item.get("language"),
        "portraitId": item.get("portraitId"),
        "title": item.get("title"),
        "portraitGender": match.get("gender"),
        "portraitAgeBand": match.get("ageBand"),
        "portraitSkinTone": match.get("skinTone"),
        "rung": match.get("rung"),
        "timings": item.get("timings") or visit.view.get("timings") or {},
        "seconds": round(visit.seconds, 3),
    }


def _width(text: str) -> int:
    """Columns a terminal gives the text: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(records: list[dict]) -> str:
    """The demo's table, from the same records `--json` prints."""
    head = ["visitId", "display", "theme", "lang", "status", "portrait", "matched as", "rung"]
    head += ["crop ms", "portrait ms", "swap ms", "restore ms", "end-to-end s"]
    rows = []
    for r in records:
        t = r["timings"]
        traits = "/".join(str(r[k]) for k in ("portraitGender", "portraitAgeBand", "portraitSkinTone") if r[k])
        rows.append(
            [
                r["visitId"],
                r["display"],
                r["theme"],
                r["language"] or "",
                r["status"],
                (r["title"] or r["reason"] or "")[:30],
                traits,
                r["rung"] or "",
                *(str(t.get(k, "-")) for k in ("cropMs", "portraitMs", "swapMs", "restoreMs")),
                f"{r['seconds']:.2f}",
            ]
        )
    widths = [max(_width(str(r[i])) for r in [head, *rows]) for i in range(len(head))]

    def line(r: list) -> str:
        return "  ".join(str(c) + " " * (w - _width(str(c))) for c, w in zip(r, widths, strict=True))

    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, rows)])
