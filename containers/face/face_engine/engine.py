"""Backend selection for the model server.

The learned backend (onnx_backend) takes over each half whose weights are
present under $MODEL_DIR: swap needs swap.onnx + embed.onnx, restore needs
restore.onnx. Everything else runs the classical engine (pipeline).
"""

from __future__ import annotations

import numpy as np

from . import onnx_backend, pipeline
from .detect import detect_faces


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
        return pipeline.swap_with_face(visitor_rgb, portrait_rgb, theme)
    pipeline.check_theme(theme)
    visitor_rgb = pipeline.check_rgb(visitor_rgb, "visitor_rgb")
    portrait_rgb = pipeline.check_rgb(portrait_rgb, "portrait_rgb")
    return onnx_backend.swap(m, visitor_rgb, portrait_rgb, pipeline.portrait_faces(portrait_rgb))


def restore(rgb: np.ndarray, theme: str, face_mesh: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, float]]:
    m = onnx_backend.models()
    if not m.can_restore:
        return pipeline.restore(rgb, theme, face_mesh)
    pipeline.check_theme(theme)
    rgb = pipeline.check_rgb(rgb, "rgb")
    shrink = 1.0
    if face_mesh is None:
        faces = detect_faces(rgb)
        if not faces or faces[0].mesh is None:
            return rgb.copy(), {}
        face_mesh, shrink = faces[0].mesh, pipeline.RESTORE_SHRINK
    restored = onnx_backend.restore_crop(m, rgb, face_mesh, shrink)
    # Harmonise last, over the learned restorer's photographic face.
    return pipeline.restore_face(restored, face_mesh, theme, shrink, denoise=False)


def warmup() -> None:
    pipeline.warmup()
    onnx_backend.models()
