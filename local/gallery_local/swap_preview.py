"""`gallery swap`: the face engine alone, for operators previewing a portrait before an event."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image


def main(photo: Path, portrait: Path, theme: str, output: Path) -> int:
    from face_engine import engine
    from face_engine.errors import Refused

    visitor = np.asarray(Image.open(photo).convert("RGB"))
    target = np.asarray(Image.open(portrait).convert("RGB"))
    started = time.perf_counter()
    try:
        # Through the model server's own entry points (the learned backend too,
        # when its weights are under $MODEL_DIR); restore works on exactly the
        # region the swap changed, as the endpoints do it.
        swapped, swap_timings, face_mesh = engine.swap(visitor, target, theme)
        result, restore_timings = engine.restore(swapped, theme, face_mesh)
    except Refused as e:
        print(f"refused: {e.reason}: {e.message}", file=sys.stderr)
        return 2
    total = (time.perf_counter() - started) * 1000
    Image.fromarray(result).save(output)
    print(f"{'backend':>24}: {engine.backend_name()}")
    for stage, ms in {**swap_timings, **{f"restore.{k}": v for k, v in restore_timings.items()}}.items():
        print(f"{stage:>24}: {ms:8.1f} ms")
    print(f"{'total':>24}: {total:8.1f} ms")
    print(f"wrote {output}")
    return 0
