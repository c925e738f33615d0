"""Stopping what was started, newest first, even when one of them fails to stop."""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


class Shutdown:
    def __init__(self) -> None:
        self._steps: list[Callable[[], object]] = []

    def add(self, step: Callable[[], object]) -> None:
        self._steps.append(step)

    def run(self) -> None:
        while self._steps:
            step = self._steps.pop()
            try:
                step()
            except Exception:  # noqa: BLE001 - a stuck server must not keep the others running
                log.warning("could not stop %r", step, exc_info=True)
