"""Learned backend: inswapper-style swap and GFPGAN/CodeFormer-style restore via onnxruntime.

Used only when the operator puts weights in the model directory (env
MODEL_DIR, default /opt/ml/model); nothing is downloaded or committed.

    swap.onnx     target face 1x3x128x128 RGB in [0, 1] + source latent 1x512
                  -> swapped face 1x3x128x128 in [0, 1]          (inswapper)
    embed.onnx    face 1x3x112x112 RGB, (x - 127.5) / 127.5 -> 1x512 identity
                  embedding                                     (ArcFace)
    emap.npy      optional 512x512 matrix: latent = normalise(embedding @ emap)
                  (inswapper keeps it as its graph's last initializer)
    restore.onnx  face 1x3x512x512 RGB, (x / 255 - 0.5) / 0.5 -> same range
                  (GFPGAN; a second scalar input, CodeFormer's fidelity
                  weight, gets RESTORE_FIDELITY)

Faces are aligned with a similarity transform from five mesh points (eye
centres, nose tip, mouth corners) to each model's template, and pasted back
through the inverse transform inside the same feathered face alpha as the
classical engine, so pixels outside the face stay untouched.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from . import blend
from . import mesh as fm
from .checks import require_usable
from .detect import detect_faces
from .face import Face
from .geometry import roi_of, similarity_2x3

# ArcFace's 112x112 five-point template (insightface), image-left eye first.
ARCFACE_112 = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                        [41.5493, 92.3655], [70.7299, 92.2041]], np.float64)
# FFHQ 512x512 template used by GFPGAN and CodeFormer.
FFHQ_512 = np.array([[192.98138, 239.94708], [318.90277, 240.1936], [256.63416, 314.01935],
                     [201.26117, 371.41043], [313.08905, 371.15118]], np.float64)
RESTORE_FIDELITY = 0.7


def arcface_template(size: int) -> np.ndarray:
    """insightface's estimate_norm: 112-multiples scale; 128 shifts the 112 template by 8 px."""
    if size % 112 == 0:
        return ARCFACE_112 * (size / 112.0)
    t = ARCFACE_112 * (size / 128.0)
    t[:, 0] += 8.0 * size / 128.0
    return t


def five_points(mesh: np.ndarray) -> np.ndarray:
    """Eye centres (image-left first), nose tip, mouth corners (image-left first): 5x2."""
    from . import landmarks as lm

    xy = mesh[:, :2]
    return np.array([xy[lm.EYE_L].mean(0), xy[lm.EYE_R].mean(0), xy[lm.NOSE_TIP],
                     xy[lm.MOUTH_L], xy[lm.MOUTH_R]], np.float64)


def align(rgb: np.ndarray, points: np.ndarray, template: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(size x size crop, 2x3 image->crop matrix)."""
    m = similarity_2x3(points, template)
    crop = cv2.warpAffine(rgb, m, (size, size), flags=cv2.INTER_LINEAR if m[0, 0] > 1 else cv2.INTER_AREA,
                          borderMode=cv2.BORDER_REFLECT101)
    return crop, m


def to_tensor(rgb: np.ndarray, mean: float, std: float) -> np.ndarray:
    """HxWx3 uint8 RGB -> 1x3xHxW float32, (x - mean) / std."""
    x = (rgb.astype(np.float32) - mean) / std
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def from_tensor(t: np.ndarray, mean: float, std: float) -> np.ndarray:
    """1x3xHxW float -> HxWx3 uint8, inverting to_tensor's normalisation."""
    x = np.asarray(t, np.float32)[0].transpose(1, 2, 0) * std + mean
    return np.clip(x + 0.5, 0, 255).astype(np.uint8)


def paste_back(base: np.ndarray, crop: np.ndarray, m: np.ndarray, alpha_full: np.ndarray,
               roi: tuple[int, int, int, int]) -> np.ndarray:
    """Composite `crop` (in aligned space, image->crop matrix m) into base[roi] under alpha.

    alpha_full is the ROI-sized face alpha; it is further limited to where
    the crop actually covers (edges eroded so the resampling border never
    shows). Pixels where the final alpha is 0 are copied from base exactly.
    """
    x0, y0, x1, y1 = roi
    inv = cv2.invertAffineTransform(m)
    inv[:, 2] -= (x0, y0)  # into ROI coordinates
    size = (x1 - x0, y1 - y0)
    warped = cv2.warpAffine(crop, inv, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    h, w = crop.shape[:2]
    valid = np.zeros((h, w), np.uint8)
    valid[2:-2, 2:-2] = 255
    cover = cv2.warpAffine(valid, inv, size, flags=cv2.INTER_LINEAR) / 255.0
    alpha = alpha_full * cover.astype(np.float32)
    out = base.copy()
    out[y0:y1, x0:x1] = blend.composite(base[y0:y1, x0:x1], warped, alpha)
    return out


class NodeArg(Protocol):
    """An onnxruntime.NodeArg, as far as this module reads one (onnxruntime has no type information)."""

    @property
    def name(self) -> str: ...
    @property
    def shape(self) -> Sequence[int | str | None]: ...  # a symbolic or unknown dimension: str or None
    @property
    def type(self) -> str: ...  # "tensor(float)", "tensor(double)", ...


class Session(Protocol):
    """An onnxruntime.InferenceSession, as far as this module uses one."""

    def get_inputs(self) -> Sequence[NodeArg]: ...
    def run(self, output_names: Sequence[str] | None, input_feed: Mapping[str, np.ndarray]) -> list[np.ndarray]: ...


def _session(path: Path) -> Session:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(os.environ.get("ENGINE_ORT_THREADS", "0"))
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


@dataclass
class OnnxModels:
    swap: Session | None = None
    embed: Session | None = None
    emap: np.ndarray | None = None
    restore: Session | None = None

    @property
    def can_swap(self) -> bool:
        return self.swap is not None and self.embed is not None

    @property
    def can_restore(self) -> bool:
        return self.restore is not None


def load(model_dir: str | Path) -> OnnxModels:
    """Load whatever weights are present; missing files leave that half classical."""
    d = Path(model_dir)
    m = OnnxModels()
    if (d / "swap.onnx").is_file() and (d / "embed.onnx").is_file():
        m.swap, m.embed = _session(d / "swap.onnx"), _session(d / "embed.onnx")
        if (d / "emap.npy").is_file():
            m.emap = np.load(d / "emap.npy").astype(np.float32)
    if (d / "restore.onnx").is_file():
        m.restore = _session(d / "restore.onnx")
    return m


_lock = threading.Lock()
_loaded: dict[str, OnnxModels] = {}


def models() -> OnnxModels:
    """The models under $MODEL_DIR (default /opt/ml/model), loaded once."""
    d = os.environ.get("MODEL_DIR", "/opt/ml/model")
    with _lock:
        if d not in _loaded:
            _loaded[d] = load(d) if Path(d).is_dir() else OnnxModels()
        return _loaded[d]


def _loaded_session(sess: Session | None, name: str) -> Session:
    """sess, which the caller needs: checked by OnnxModels.can_swap / can_restore before any call."""
    if sess is None:
        raise RuntimeError(f"{name}.onnx is not loaded")
    return sess


def _input_names(sess: Session) -> tuple[str, str]:
    """(image input, vector input) of an inswapper-style model, told apart by rank."""
    ins = sess.get_inputs()
    image = next(i.name for i in ins if len(i.shape) == 4)
    vec = next(i.name for i in ins if len(i.shape) == 2)
    return image, vec


def identity_latent(models_: OnnxModels, rgb: np.ndarray, face: Face) -> np.ndarray:
    """The visitor's identity as the swap model's 1x512 source input."""
    crop, _ = align(rgb, five_points(face.mesh), arcface_template(112), 112)
    sess = _loaded_session(models_.embed, "embed")
    emb = sess.run(None, {sess.get_inputs()[0].name: to_tensor(crop, 127.5, 127.5)})[0].reshape(1, -1)
    emb = emb / (np.linalg.norm(emb) + 1e-9)
    if models_.emap is not None:
        emb = emb @ models_.emap
        emb = emb / (np.linalg.norm(emb) + 1e-9)
    return emb.astype(np.float32)


def swap_images(models_: OnnxModels, visitor_rgb: np.ndarray, portrait_rgb: np.ndarray,
         portrait_faces: list[Face] | None = None) -> tuple[np.ndarray, dict[str, float], np.ndarray]:
    """Learned swap; same contract as pipeline.swap_images (the theme is applied by restore)."""
    import time

    t0 = time.perf_counter()
    vf = require_usable(detect_faces(visitor_rgb), "visitor")
    pf = require_usable(portrait_faces if portrait_faces is not None else detect_faces(portrait_rgb), "portrait")
    t1 = time.perf_counter()
    latent = identity_latent(models_, visitor_rgb, vf)
    sess = _loaded_session(models_.swap, "swap")
    size = int(sess.get_inputs()[[len(i.shape) for i in sess.get_inputs()].index(4)].shape[2] or 128)
    crop, m = align(portrait_rgb, five_points(pf.mesh), arcface_template(size), size)
    img_name, vec_name = _input_names(sess)
    pred = sess.run(None, {img_name: to_tensor(crop, 0.0, 255.0), vec_name: latent})[0]
    fake = from_tensor(pred, 0.0, 255.0)
    t2 = time.perf_counter()
    roi = roi_of(fm.swap_polygon(pf.mesh), portrait_rgb.shape)
    alpha = blend.alpha_mask(pf.mesh, roi, feather=max(1.5, 0.06 * pf.face_width))
    out = paste_back(portrait_rgb, fake, m, alpha, roi)
    t3 = time.perf_counter()
    ms = {"detect": (t1 - t0) * 1e3, "swap_model": (t2 - t1) * 1e3, "blend": (t3 - t2) * 1e3}
    ms = {k: round(v, 2) for k, v in ms.items()}
    ms["total"] = round(sum(ms.values()), 2)
    return out, ms, pf.mesh


def restore_crop(models_: OnnxModels, rgb: np.ndarray, mesh: np.ndarray, shrink: float = 1.0) -> np.ndarray:
    """The learned restorer applied to the face, pasted back inside the face alpha.

    shrink < 1 narrows the pasted region (a mesh re-detected on a swapped
    image, see pipeline.restore_image).
    """
    sess = _loaded_session(models_.restore, "restore")
    ins = sess.get_inputs()
    size = int(ins[0].shape[2] or 512)
    template = FFHQ_512 * (size / 512.0)
    crop, m = align(rgb, five_points(mesh), template, size)
    feed = {ins[0].name: to_tensor(crop, 127.5, 127.5)}
    if len(ins) > 1:  # CodeFormer: fidelity weight w (0 = quality, 1 = fidelity)
        dtype = np.float64 if "double" in ins[1].type else np.float32
        feed[ins[1].name] = np.array(RESTORE_FIDELITY, dtype=dtype).reshape([d if isinstance(d, int) else 1
                                                                             for d in ins[1].shape])
    restored = from_tensor(sess.run(None, feed)[0], 127.5, 127.5)
    roi, alpha = blend.restore_alpha(mesh, rgb.shape, shrink)
    return paste_back(rgb, restored, m, alpha, roi)

