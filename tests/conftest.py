"""Shared test settings. pyproject.toml puts the layer's `gallery`, the face engine's
`face_engine` and the local stack's `gallery_local` on sys.path, as their deployments do."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Sample portraits and photos shared with CI (not part of a user's clone).
SHARED_DATA = ROOT.parent / "shared" / "data"

pytest_plugins = ["tests.stack_fixture"]
