"""Shared test settings. pyproject.toml puts the layer's `gallery`, the face engine's
`face_engine` and the local stack's `gallery_local` on sys.path, as their deployments do."""

import copy
import functools
from pathlib import Path

from gallery_local import template as tpl

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
# Sample portraits and photos shared with CI (not part of a user's clone).
SHARED_DATA = ROOT.parent / "shared" / "data"

pytest_plugins = ["tests.stack_fixture"]


@functools.cache
def _template() -> dict:
    return tpl.load(TEMPLATE)


def load_template() -> dict:
    """template.yaml as the local stack reads it (gallery_local.template: plain dicts, the short
    tags !Ref, !GetAtt, !Sub ... as their long forms), a fresh copy for each caller to change."""
    return copy.deepcopy(_template())
