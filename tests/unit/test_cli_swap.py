"""`gallery swap`: the operator's preview of the face engine."""

from pathlib import Path

import numpy as np
from PIL import Image

from gallery_local import cli
from gallery_local.demo import DEMO
from tests.conftest import shared_data


def test_swap_writes_the_portrait_with_the_visitors_face(tmp_path: Path, capsys):
    portrait = DEMO / "portraits" / "mona-lisa.jpg"
    out = tmp_path / "preview.png"
    assert (
        cli.main(["swap", str(DEMO / "photos" / "visitor-a.jpg"), str(portrait), "--theme", "painting", "-o", str(out)])
        == 0
    )
    result = np.asarray(Image.open(out).convert("RGB"))
    original = np.asarray(Image.open(portrait).convert("RGB"))
    assert result.shape == original.shape
    changed = np.any(result != original, axis=2).mean()
    assert 0.005 < changed < 0.3  # the face, not the whole picture
    printed = capsys.readouterr().out
    assert "total" in printed and "ms" in printed


def test_swap_refuses_with_the_reason_and_a_nonzero_status(tmp_path: Path, capsys):
    turned = shared_data("portraits/Girl_with_a_Pearl_Earring.jpg")  # the turned face
    out = tmp_path / "preview.png"
    assert cli.main(["swap", str(DEMO / "photos" / "visitor-a.jpg"), str(turned), "-o", str(out)]) == 2
    assert "FaceNotFrontal" in capsys.readouterr().err
    assert not out.exists()
