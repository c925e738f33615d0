"""The engine's two entry points, swap and restore: the model server's and `gallery swap`'s.

The learned backend (onnx_backend) takes over each half whose weights are
present under $MODEL_DIR: swap needs swap.onnx + embed.onnx, restore needs
restore.onnx. Everything else runs the classical engine (pipeline).
"""

from __future__ import annotations

import functools

import numpy as np

from . import onnx_backend, pipeline


def backend_name() -> str:
    m = onnx_backend.models()
    swap = "onnx" if m.can_swap else "classical"
    restore = "onnx" if m.can_restore else "classical"
    return f"swap={swap} restore={restore}"


def swap(visitor_rgb: np.ndarray, portrait_rgb: np.ndarray, theme: str
         ) -> tuple[np.ndarray, dict[str, float], np.ndarray]:
    """(image, timings, portrait face mesh)."""
    m = onnx_backend.models()
    if not m.can_swap:
        return pipeline.swap_images(visitor_rgb, portrait_rgb, theme)
    pipeline.check_theme(theme)
    visitor_rgb = pipeline.check_rgb(visitor_rgb, "visitor_rgb")
    portrait_rgb = pipeline.check_rgb(portrait_rgb, "portrait_rgb")
    return onnx_backend.swap_images(m, visitor_rgb, portrait_rgb, pipeline.portrait_faces(portrait_rgb))


def restore(rgb: np.ndarray, theme: str, face_mesh: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, float]]:
    """(image, timings): the face restored, then harmonised to the theme."""
    m = onnx_backend.models()
    learned = functools.partial(onnx_backend.restore_crop, m) if m.can_restore else None
    return pipeline.restore_image(rgb, theme, face_mesh, learned)


def warmup() -> None:
    pipeline.warmup()
    onnx_backend.models()
