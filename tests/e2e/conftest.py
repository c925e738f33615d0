"""One local stack for the end-to-end tests: moto, the real handlers and state machine, and
the face engine's model server as a local process."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from gallery_local.stack import LocalStack, Settings

# Short enough that the endpoint-timeout test stays quick, long enough for eight visits at
# once on two cores.
INFERENCE_TIMEOUT_SECONDS = 12


@pytest.fixture(scope="session")
def stack():
    with LocalStack(Settings(inference_timeout_seconds=INFERENCE_TIMEOUT_SECONDS)) as s:
        yield s


@pytest.fixture(autouse=True)
def healthy(request):
    """Each test starts with every local service up and no injected faults."""
    if "stack" not in request.fixturenames:
        yield
        return
    s = request.getfixturevalue("stack")
    s.endpoints.clear_faults()
    s.slack.down = False
    s.appsync.down = False
    yield
    s.endpoints.clear_faults()
    s.slack.down = False
    s.appsync.down = False


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
