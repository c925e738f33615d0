"""Past-Life Gallery face engine: detection, swap, restoration, model server.

Stages (see pipeline.py):
  swap    = detect both faces -> piecewise-affine warp over the dense mesh
            -> LAB colour + low-frequency lighting match -> feathered blend.
  restore = detect the face -> denoise + sharpen -> theme harmonisation.
Harmonisation lives in `restore` because it must run last: a learned
restorer (GFPGAN-style) would otherwise turn a stylised face back into a
photograph.
"""

__all__ = ["detect", "errors", "pipeline", "rekognition"]
