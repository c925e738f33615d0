"""The tools `make test` runs before the tests: scripts/ensure-chromium and checkov's skip list."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ENSURE = ROOT / "scripts" / "ensure-chromium"


def ensure(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ENSURE)], env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), **env}, capture_output=True, text=True
    )


def test_a_present_chromium_is_left_alone(tmp_path: Path) -> None:
    chromium = tmp_path / "chromium"
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    # apt-get points nowhere: had the script tried to install, it would have failed.
    proc = ensure(tmp_path, GALLERY_CHROMIUM=str(chromium), GALLERY_APT_GET=str(tmp_path / "no-apt-get"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


def test_a_missing_chromium_that_cannot_be_installed_fails_and_says_what_to_install(tmp_path: Path) -> None:
    proc = ensure(
        tmp_path, GALLERY_CHROMIUM=str(tmp_path / "nowhere" / "chromium"), GALLERY_APT_GET=str(tmp_path / "no-apt-get")
    )
    assert proc.returncode != 0
    assert "apt-get install -y chromium chromium-driver" in proc.stderr
    assert str(tmp_path / "nowhere" / "chromium") in proc.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="the failing apt-get runs without sudo only as root")
def test_a_failing_install_fails_and_says_what_to_install(tmp_path: Path) -> None:
    apt_get = tmp_path / "apt-get"
    apt_get.write_text("#!/bin/sh\necho 'E: Unable to locate package chromium' >&2\nexit 100\n")
    apt_get.chmod(0o755)
    proc = ensure(tmp_path, GALLERY_CHROMIUM=str(tmp_path / "chromium"), GALLERY_APT_GET=str(apt_get))
    assert proc.returncode != 0
    assert "apt-get update failed" in proc.stderr
    assert "apt-get install -y chromium chromium-driver" in proc.stderr


def test_every_skipped_checkov_check_has_its_reason() -> None:
    text = (ROOT / ".checkov.yaml").read_text()
    skipped = yaml.safe_load(text)["skip-check"]
    assert skipped and len(skipped) == len(set(skipped))
    lines = text.splitlines()
    start = lines.index("skip-check:")
    for i, line in enumerate(lines[start + 1 :], start + 1):
        if re.fullmatch(r"\s+- \S+", line):
            above = lines[i - 1].strip()
            # A check right after another shares its reason (e.g. two AppSync logging checks).
            assert above.startswith("#") or re.fullmatch(r"- \S+", above), f"{line.strip()} has no reason"
