"""Shared helpers for the face engine tests: import path and sample data.

bundled_photo/bundled_portrait are the demo's pictures (local/gallery_local/demo), in every clone:
visitor-a.jpg is the shared obama.jpg re-encoded, visitor-b.jpg biden2.jpg, visitor-c.jpg
obama2.jpg, visitor-d.jpg and visitor-e.jpg NASA portraits of two women, portraits/mona-lisa.jpg
mona_lisa.jpg at 1024 px. photo/portrait read the shared sample data and skip loudly without it
(tests.conftest.shared_data): use them only for what no bundled picture shows."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import DEMO, SHARED_DATA, shared_data

REPO = Path(__file__).resolve().parents[2]
ENGINE_DIR = REPO / "containers" / "face"
if str(ENGINE_DIR) not in sys.path:
    sys.path.insert(0, str(ENGINE_DIR))

DATA = SHARED_DATA
PHOTOS = DATA / "photos"
PORTRAITS = DATA / "portraits"
BUNDLED_PHOTOS = DEMO / "photos"
BUNDLED_PORTRAITS = DEMO / "portraits"


def load(path: Path, max_side: int | None = None) -> np.ndarray:
    """RGB uint8 array of an image file, optionally downscaled to max_side."""
    from PIL import Image

    im = Image.open(path).convert("RGB")
    if max_side and max(im.size) > max_side:
        s = max_side / max(im.size)
        im = im.resize((round(im.width * s), round(im.height * s)), Image.LANCZOS)
    return np.asarray(im).copy()


def photo(name: str, max_side: int | None = None) -> np.ndarray:
    """A shared sample photo; the test skips (loudly) without ../shared/data."""
    return load(shared_data(f"photos/{name}"), max_side)


def portrait(name: str, max_side: int | None = 1024) -> np.ndarray:
    """A shared sample portrait; the test skips (loudly) without ../shared/data."""
    return load(shared_data(f"portraits/{name}"), max_side)


def bundled_photo(name: str, max_side: int | None = None) -> np.ndarray:
    return load(BUNDLED_PHOTOS / name, max_side)


def bundled_portrait(name: str, max_side: int | None = 1024) -> np.ndarray:
    return load(BUNDLED_PORTRAITS / name, max_side)


def resized(rgb: np.ndarray, scale: float) -> np.ndarray:
    """The picture scaled by `scale` (Lanczos), as a smaller or larger photo of the same scene."""
    from PIL import Image

    h, w = rgb.shape[:2]
    return np.asarray(Image.fromarray(rgb).resize((round(w * scale), round(h * scale)), Image.LANCZOS)).copy()


def side_by_side(*pictures: np.ndarray, gap: int = 40) -> np.ndarray:
    """One picture of several, left to right on a plain ground, top-aligned: a group photo."""
    h = max(p.shape[0] for p in pictures)
    w = sum(p.shape[1] for p in pictures) + gap * (len(pictures) - 1)
    out = np.full((h, w, 3), 235, np.uint8)
    x = 0
    for p in pictures:
        out[: p.shape[0], x : x + p.shape[1]] = p
        x += p.shape[1] + gap
    return out


class Identity:
    """dlib ResNet face embedding (face-recognition-models), for measurement only.

    The face box comes from dlib's HOG detector when it finds the face (what
    the 5-point model was trained on), otherwise from the engine's mesh.
    """

    def __init__(self) -> None:
        dlib = pytest.importorskip("dlib")
        frm = pytest.importorskip("face_recognition_models")
        self.dlib = dlib
        self.hog = dlib.get_frontal_face_detector()
        self.sp = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
        self.net = dlib.face_recognition_model_v1(frm.face_recognition_model_location())

    def embed(self, rgb: np.ndarray) -> np.ndarray | None:
        from face_engine.detect import detect_faces

        rects, scores, _ = self.hog.run(rgb, 1, 0.0)
        good = [(r.area(), r) for r, s in zip(rects, scores, strict=True) if s >= 0.3]
        if good:
            rect = max(good, key=lambda t: t[0])[1]
        else:
            faces = detect_faces(rgb)
            if not faces:
                return None
            m = faces[0].mesh
            x0, x1 = m[[234, 454], 0]
            y0, y1 = m[151, 1], m[152, 1]
            rect = self.dlib.rectangle(int(x0), int(y0), int(x1), int(y1))
        shape = self.sp(rgb, rect)
        return np.array(self.net.compute_face_descriptor(rgb, shape))


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b))
