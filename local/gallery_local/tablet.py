"""What a tablet does, as code: sign in, create a visit, upload through the presigned POST,
and follow the visit's status until it ends. The demo, the benchmarks and the tests use it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import requests

from gallery.visits import FINAL, WAITING


@dataclass
class Visit:
    visit_id: str
    display_id: str
    theme: str
    upload_key: str
    status: str = WAITING
    view: dict = field(default_factory=dict)
    uploaded_at: float = 0.0
    finished_at: float = 0.0
    image: bytes | None = None
    owner_secret: str = ""  # what the tablet hands the visitor (the private link)

    @property
    def seconds(self) -> float:
        return self.finished_at - self.uploaded_at


class Tablet:
    # As often as a tablet asks for its visit's status; each poll is a Lambda call and a read.
    poll_seconds = 0.25

    def __init__(self, stack: Any, display_id: int | str) -> None:
        self.stack, self.display_id = stack, str(display_id)
        self.http = requests.Session()
        self.token = stack.tablet_token(display_id)

    def start_visit(self, theme: str, consent: bool = True, language: str | None = None) -> tuple[int, dict]:
        """POST /visits. language None sends none, as a tablet from before the choice did."""
        body: dict = {"theme": theme, "consent": consent}
        if language is not None:
            body["language"] = language
        resp = self.http.post(
            f"{self.stack.api.url}/visits",
            json=body,
            headers={"Authorization": self.token},
            timeout=10,
        )
        return resp.status_code, resp.json()

    def upload(self, created: dict, photo: bytes, content_type: str = "image/jpeg") -> requests.Response:
        upload = created["upload"]
        fields = {**upload["fields"], "Content-Type": content_type}
        return self.http.post(upload["url"], data=fields, files={"file": ("photo", photo, content_type)}, timeout=60)

    def status(self, visit_id: str) -> tuple[int, dict]:
        # A tablet follows its own visit with its own token, as the tablet page does.
        resp = self.http.get(
            f"{self.stack.api.url}/visits/{visit_id}", headers={"Authorization": self.token}, timeout=10
        )
        return resp.status_code, resp.json()

    def visit(
        self,
        photo: bytes,
        theme: str,
        content_type: str = "image/jpeg",
        timeout: float = 120,
        language: str | None = None,
    ) -> Visit:
        """One whole visit; returns when the visit is final (or the timeout passes)."""
        code, created = self.start_visit(theme, language=language)
        if code != 201:
            raise RuntimeError(f"POST /visits answered {code}: {created}")
        visit = Visit(created["visitId"], created["displayId"], theme, created["upload"]["key"])
        visit.owner_secret = created.get("ownerSecret", "")
        visit.uploaded_at = time.perf_counter()
        resp = self.upload(created, photo, content_type)
        if resp.status_code >= 300:
            raise RuntimeError(f"The upload was refused ({resp.status_code}): {resp.text[:300]}")
        return self.follow(visit, timeout)

    def follow(self, visit: Visit, timeout: float = 120, fetch_image: bool = True) -> Visit:
        """Poll until the visit is final; fetch_image False leaves the result image unfetched."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            code, view = self.status(visit.visit_id)
            if code == 200 and view.get("status") in FINAL:
                visit.finished_at = time.perf_counter()
                visit.status, visit.view = view["status"], view
                if fetch_image and view.get("imageUrl"):
                    visit.image = self.http.get(view["imageUrl"], timeout=30).content
                return visit
            time.sleep(self.poll_seconds)
        visit.finished_at = time.perf_counter()
        visit.status = "TIMED_OUT"
        return visit
