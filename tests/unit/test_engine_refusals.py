"""Each refusal reason, on built inputs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from _engine_path import bundled_photo, bundled_portrait, photo, portrait

from face_engine import checks, pipeline
from face_engine.detect import detect_faces
from face_engine.errors import PORTRAIT, VISITOR, Refused


def _refusal(visitor: np.ndarray, por: np.ndarray | None = None) -> Refused:
    if por is None:
        por = bundled_portrait("mona-lisa.jpg")
    with pytest.raises(Refused) as info:
        pipeline.swap_images(visitor, por, "realistic")
    return info.value


def test_blank_image_is_no_face() -> None:
    r = _refusal(np.full((480, 640, 3), 200, np.uint8))
    assert r.reason == "NoFaceDetected"
    assert r.subject == VISITOR


def test_noise_and_a_portrait_without_a_face_are_no_face() -> None:
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 256, (512, 512, 3), dtype=np.uint8)
    assert detect_faces(noise) == []
    r = _refusal(bundled_photo("visitor-a.jpg"), np.full((600, 400, 3), 30, np.uint8))
    assert r.reason == "NoFaceDetected"
    assert r.subject == PORTRAIT


def test_tiny_face_is_too_small() -> None:
    big = bundled_photo("visitor-a.jpg")
    small = cv2.resize(big, None, fx=0.16, fy=0.16, interpolation=cv2.INTER_AREA)
    faces = detect_faces(small)
    assert faces, "the detector should still find the tiny face"
    assert faces[0].face_width < checks.MIN_FACE_PX
    assert _refusal(small).reason == "FaceTooSmall"


def test_turned_portrait_is_not_frontal() -> None:
    girl = portrait("Girl_with_a_Pearl_Earring.jpg")
    face = detect_faces(girl)[0]
    assert face.yaw < -checks.MAX_YAW  # she looks over her right shoulder (towards the image's left)
    r = _refusal(bundled_photo("visitor-a.jpg"), girl)
    assert r.reason == "FaceNotFrontal"


def test_turned_visitor_is_not_frontal() -> None:
    # Synthetic yaw: squash one half of the face horizontally so the mesh sees
    # the face turned. Simpler and more reliable than hunting for a photo.
    face = detect_faces(bundled_photo("visitor-a.jpg"))[0]
    assert checks.problem(face) is None
    face.yaw = checks.MAX_YAW + 5
    assert checks.problem(face) == "FaceNotFrontal"
    face.yaw, face.pitch = 0.0, -(checks.MAX_PITCH + 5)
    assert checks.problem(face) == "FaceNotFrontal"


def test_pose_follows_a_rotated_mesh() -> None:
    face = detect_faces(bundled_photo("visitor-a.jpg"))[0]
    assert abs(face.yaw) < 10 and abs(face.pitch) < 10 and abs(face.roll) < 10
    from face_engine.detect import pose_from_mesh

    m = face.mesh - face.mesh.mean(0)
    a = np.radians(40)
    ry = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    yaw, pitch, roll = pose_from_mesh(m @ ry.T)
    assert 30 < abs(yaw - face.yaw) < 50
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    _, _, roll = pose_from_mesh(m @ rz.T)
    assert abs(roll - face.roll - 40) < 3  # clockwise in the image (y down) is positive


def test_black_bar_over_the_eyes_is_eyes_covered() -> None:
    img = bundled_photo("visitor-a.jpg")
    m = detect_faces(img)[0].mesh
    (x0, y0), (x1, y1) = m[[70, 300, 230, 450], :2].min(0).astype(int), m[[70, 300, 230, 450], :2].max(0).astype(int)
    img[y0:y1, x0:x1] = 0
    assert _refusal(img).reason == "EyesCovered"


def test_dark_glasses_are_eyes_covered() -> None:
    img = bundled_photo("visitor-b.jpg")
    m = detect_faces(img)[0].mesh
    for idx in ([33, 133, 159, 145], [263, 362, 386, 374]):
        c = m[idx, :2].mean(0)
        r = np.linalg.norm(m[idx[0], :2] - m[idx[1], :2]) * 0.75
        cv2.circle(img, (int(c[0]), int(c[1])), int(r), (20, 20, 25), -1)
    assert _refusal(img).reason == "EyesCovered"


@pytest.mark.parametrize("name", [f"visitor-{c}.jpg" for c in "abcde"])
def test_usable_faces_pass_the_checks(name: str) -> None:
    assert checks.problem(detect_faces(bundled_photo(name))[0]) is None


@pytest.mark.parametrize("name", ["lin-manuel-miranda.png", "alex-lacamoire.png"])
def test_usable_faces_of_transparent_pngs_pass_the_checks(name: str) -> None:
    assert checks.problem(detect_faces(photo(name))[0]) is None
