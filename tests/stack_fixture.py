"""One local stack per test session: moto, the real handlers and state machine, and the face
engine's model server as a local process. moto's backends are process-wide, so there can only
be one; the end-to-end and browser tests share it. Tests that use moto's in-process mock_aws
(which resets those backends) run in a separate pytest process (see the Makefile)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gallery_local import demo_catalog, moto_hooks
from gallery_local.stack import LocalStack, Settings

# Short enough that the endpoint-timeout test stays quick, long enough for eight visits at
# once on two cores.
INFERENCE_TIMEOUT_SECONDS = 12


# Approved portraits per theme, made through the catalog workflow as `make demo` makes them.
CATALOG_PER_THEME = 4


@pytest.fixture(scope="session")
def stack():
    with LocalStack(Settings(inference_timeout_seconds=INFERENCE_TIMEOUT_SECONDS)) as s:
        demo_catalog.build(s, per_theme=CATALOG_PER_THEME)
        yield s


def reset_around(request: pytest.FixtureRequest, fixture: str, reset: Callable[[Any], None]) -> Iterator[None]:
    """For an autouse fixture: `reset` the session fixture named `fixture` before and after each
    test that uses it, and nothing for a test that does not (it never starts the stack)."""
    if fixture not in request.fixturenames:
        yield
        return
    value = request.getfixturevalue(fixture)
    reset(value)
    yield
    reset(value)


def _heal(s: LocalStack) -> None:
    s.endpoints.clear_faults()
    moto_hooks.clear_faults()
    s.slack.down, s.slack.down_status = False, 503
    s.appsync.down = False


@pytest.fixture(autouse=True)
def healthy(request):
    """Each test starts with every local service up and no injected faults."""
    yield from reset_around(request, "stack", _heal)
