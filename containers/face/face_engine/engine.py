"""Backend selection: the learned ONNX backend when weights are present, else classical."""

from __future__ import annotations

import numpy as np

from . import pipeline


def backend_name() -> str:
    return "classical"


def swap(visitor_rgb: np.ndarray, portrait_rgb: np.ndarray, theme: str
         ) -> tuple[np.ndarray, dict[str, float], np.ndarray]:
    """(image, timings, portrait face mesh)."""
    return pipeline.swap_with_face(visitor_rgb, portrait_rgb, theme)


def restore(rgb: np.ndarray, theme: str, face_mesh: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, float]]:
    return pipeline.restore(rgb, theme, face_mesh)


def warmup() -> None:
    pipeline.warmup()
