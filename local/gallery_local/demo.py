"""`gallery demo`: photos go through the whole pipeline on the local stack, as from tablets."""

from __future__ import annotations

import mimetypes
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from gallery_local.stack import LocalStack, Settings
from gallery_local.tablet import Tablet, Visit

DEMO = Path(__file__).resolve().parent / "demo"
BUNDLED = [  # (photo, display, theme)
    ("visitor-a.jpg", 1, "painting"),
    ("visitor-b.jpg", 2, "realistic"),
    ("visitor-c.jpg", 3, "travel"),
    ("visitor-b.jpg", 4, "animation"),
    ("visitor-a.jpg", 5, "travel"),
    ("visitor-c.jpg", 6, "painting"),
]


@dataclass
class Job:
    photo: Path
    display: int
    theme: str


def bundled_jobs() -> list[Job]:
    return [Job(DEMO / "photos" / name, display, theme) for name, display, theme in BUNDLED]


def run(jobs: list[Job], out_dir: Path, concurrent: bool = False) -> list[Visit]:
    out_dir.mkdir(parents=True, exist_ok=True)
    with LocalStack(Settings()) as stack:
        tablets = {job.display: Tablet(stack, job.display) for job in jobs}

        def one(job: Job) -> Visit:
            ctype = mimetypes.guess_type(job.photo.name)[0] or "image/jpeg"
            visit = tablets[job.display].visit(job.photo.read_bytes(), job.theme, ctype)
            if visit.image:
                (out_dir / f"{visit.visit_id}-display{job.display}-{job.theme}.png").write_bytes(visit.image)
            return visit

        if concurrent:
            with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
                return list(pool.map(one, jobs))
        return [one(job) for job in jobs]


def table(visits: list[Visit]) -> str:
    head = [
        "visitId",
        "display",
        "theme",
        "status",
        "portrait",
        "crop ms",
        "portrait ms",
        "swap ms",
        "restore ms",
        "end-to-end s",
    ]
    rows = []
    for v in visits:
        t = v.view.get("timings") or {}
        portrait = v.view.get("title") or v.view.get("reason") or ""
        rows.append(
            [
                v.visit_id,
                v.display_id,
                v.theme,
                v.status,
                portrait[:38],
                *(str(t.get(k, "-")) for k in ("cropMs", "portraitMs", "swapMs", "restoreMs")),
                f"{v.seconds:.2f}",
            ]
        )
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True))  # noqa: E731
    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, rows)])
