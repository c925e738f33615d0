"""Helpers for the end-to-end tests. The `stack` fixture itself lives in tests/stack_fixture.py."""

from __future__ import annotations

import io
import json
import time

from PIL import Image


def state_names(stack, execution_arn: str) -> list[str]:
    return [
        e["stateEnteredEventDetails"]["name"] for e in stack.history(execution_arn) if "stateEnteredEventDetails" in e
    ]


def task_output(stack, execution_arn: str, state: str) -> dict:
    """The output of a state, from the execution history."""
    for e in stack.history(execution_arn):
        details = e.get("stateExitedEventDetails")
        if details and details["name"] == state:
            return json.loads(details["output"])
    raise AssertionError(f"{state} never exited")


def jpeg(img: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def until(what, timeout: float = 60, every: float = 0.1):
    """Poll until `what()` is truthy; return its value (None after the timeout)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = what()
        if value:
            return value
        time.sleep(every)
    return None
