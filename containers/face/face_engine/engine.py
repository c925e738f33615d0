"""Backend selection: the learned ONNX backend when weights are present, else classical."""

from __future__ import annotations

import numpy as np

from . import pipeline


def backend_name() -> str:
    return "classical"


def swap(visitor_rgb: np.ndarray, portrait_rgb: np.ndarray, theme: str) -> tuple[np.ndarray, dict[str, float]]:
    return pipeline.swap(visitor_rgb, portrait_rgb, theme)


def restore(rgb: np.ndarray, theme: str) -> tuple[np.ndarray, dict[str, float]]:
    return pipeline.restore(rgb, theme)


def warmup() -> None:
    pipeline.warmup()
