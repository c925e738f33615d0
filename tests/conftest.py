"""Shared test settings. pyproject.toml puts the layer's `gallery`, the face engine's
`face_engine` and the local stack's `gallery_local` on sys.path, as their deployments do.

Sample data: the bundled demo pictures (local/gallery_local/demo) are in every clone, and a test
that can use them does. The shared sample photos and portraits (the hard cases: a turned face,
two people, a closed mouth...) are not: a test that needs one skips, says which file and how to
get it, and the run ends with a count of those skips (`shared_data`, pytest_terminal_summary)."""

import copy
import functools
import os
from pathlib import Path

import pytest

from gallery_local import template as tpl

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
# The demo's pictures, bundled with the code.
DEMO = ROOT / "local" / "gallery_local" / "demo"
# Sample portraits and photos shared with CI, not part of a user's clone: ../shared/data beside
# the checkout, or wherever GALLERY_SHARED_DATA says.
SHARED_DATA = Path(os.environ.get("GALLERY_SHARED_DATA") or ROOT.parent / "shared" / "data")
SHARED_MISSING = "shared sample data missing"
HOW_TO_GET_SHARED = "put the team's shared/data folder at ../shared/data beside the checkout or set GALLERY_SHARED_DATA"

pytest_plugins = ["tests.stack_fixture"]


@functools.cache
def _template() -> dict:
    return tpl.load(TEMPLATE)


def load_template() -> dict:
    """template.yaml as the local stack reads it (gallery_local.template: plain dicts, the short
    tags !Ref, !GetAtt, !Sub ... as their long forms), a fresh copy for each caller to change."""
    return copy.deepcopy(_template())


def shared_data(relative: str) -> Path:
    """A file of the shared sample data (photos/..., portraits/...), or skip the test saying
    which file is missing and how to get it."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"{SHARED_MISSING}: {path} ({HOW_TO_GET_SHARED})")
    return path


def pytest_configure(config: pytest.Config) -> None:
    # Every skip's reason in the short summary (as -rs would), unless the run chose its own.
    chars = config.option.reportchars
    if not any(c in chars for c in "sNaA"):
        config.option.reportchars = chars + "s"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter):
    """After the short summary: how many tests the missing shared data skipped, and how to run them."""
    yield
    missing = [r for r in terminalreporter.stats.get("skipped", []) if SHARED_MISSING in str(r.longrepr)]
    if missing:
        terminalreporter.write_line(
            f"{len(missing)} test(s) skipped, {SHARED_MISSING} ({SHARED_DATA}): a fresh clone has none; "
            f"{HOW_TO_GET_SHARED}.",
            yellow=True,
            bold=True,
        )
