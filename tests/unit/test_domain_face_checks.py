"""gallery.face_checks on Rekognition-shaped FaceDetail dicts (DetectFaces, Attributes=ALL)."""

from __future__ import annotations

import pytest

from gallery import face_checks
from gallery.errors import EyesCovered, FaceNotFrontal, FaceTooBlurry, FaceTooSmall, NoFaceDetected, Rejected

W, H = 1280, 960


def face_detail(
    left=0.35,
    top=0.2,
    width=0.3,
    height=0.4,
    confidence=99.99,
    yaw=2.5,
    pitch=-4.0,
    roll=1.2,
    sunglasses=(False, 99.1),
    eyes_open=(True, 98.7),
    age=(29, 37),
    gender=("Female", 99.6),
    sharpness=89.9,
) -> dict:
    """A FaceDetail as Rekognition DetectFaces returns it with Attributes=["ALL"]."""
    return {
        "BoundingBox": {"Width": width, "Height": height, "Left": left, "Top": top},
        "AgeRange": {"Low": age[0], "High": age[1]},
        "Smile": {"Value": True, "Confidence": 93.2},
        "Eyeglasses": {"Value": False, "Confidence": 99.4},
        "Sunglasses": {"Value": sunglasses[0], "Confidence": sunglasses[1]},
        "Gender": {"Value": gender[0], "Confidence": gender[1]},
        "Beard": {"Value": False, "Confidence": 97.1},
        "Mustache": {"Value": False, "Confidence": 98.8},
        "EyesOpen": {"Value": eyes_open[0], "Confidence": eyes_open[1]},
        "MouthOpen": {"Value": False, "Confidence": 95.5},
        "Emotions": [{"Type": "HAPPY", "Confidence": 91.3}, {"Type": "CALM", "Confidence": 5.1}],
        "Landmarks": [
            {"Type": "eyeLeft", "X": left + width * 0.3, "Y": top + height * 0.4},
            {"Type": "eyeRight", "X": left + width * 0.7, "Y": top + height * 0.4},
        ],
        "Pose": {"Roll": roll, "Yaw": yaw, "Pitch": pitch},
        "Quality": {"Brightness": 78.4, "Sharpness": sharpness},
        "Confidence": confidence,
        "FaceOccluded": {"Value": False, "Confidence": 99.0},
        "EyeDirection": {"Yaw": 1.0, "Pitch": -2.0, "Confidence": 99.0},
    }


def test_a_good_face_is_usable():
    face = face_detail()
    assert face_checks.problem(face, W, H) is None
    assert face_checks.usable_face([face], W, H) is face


@pytest.mark.parametrize(
    "faces",
    [
        [],
        [face_detail(confidence=face_checks.MIN_CONFIDENCE - 0.01)],
        [face_detail(confidence=12.0), face_detail(confidence=40.0, left=0.1)],
    ],
)
def test_no_confident_face_is_no_face(faces):
    with pytest.raises(NoFaceDetected) as e:
        face_checks.usable_face(faces, W, H)
    assert e.value.message == "We couldn't see a face. Please look at the camera."


def test_a_face_at_the_confidence_threshold_counts():
    face = face_detail(confidence=face_checks.MIN_CONFIDENCE)
    assert face_checks.usable_face([face], W, H) is face


@pytest.mark.parametrize(
    "width,height,expected",
    [
        (79 / W, 0.4, FaceTooSmall),  # 79 px wide
        (0.3, 79 / H, FaceTooSmall),  # 79 px high
        (0.04, 0.05, FaceTooSmall),
        (80 / W, 80 / H, None),  # exactly the minimum
    ],
)
def test_small_faces(width, height, expected):
    problem = face_checks.problem(face_detail(width=width, height=height), W, H)
    assert (type(problem) if problem else None) is expected


def test_face_size_is_measured_in_pixels_of_this_photo():
    face = face_detail(width=0.1, height=0.1)
    assert isinstance(face_checks.problem(face, 640, 480), FaceTooSmall)  # 64 x 48 px
    assert face_checks.problem(face, 4032, 3024) is None  # 403 x 302 px


@pytest.mark.parametrize(
    "yaw,pitch,expected",
    [
        (face_checks.MAX_YAW + 0.5, 0.0, FaceNotFrontal),
        (-(face_checks.MAX_YAW + 0.5), 0.0, FaceNotFrontal),
        (0.0, face_checks.MAX_PITCH + 0.5, FaceNotFrontal),
        (0.0, -(face_checks.MAX_PITCH + 0.5), FaceNotFrontal),
        (face_checks.MAX_YAW, face_checks.MAX_PITCH, None),
        (-face_checks.MAX_YAW, -face_checks.MAX_PITCH, None),
    ],
)
def test_turned_faces(yaw, pitch, expected):
    problem = face_checks.problem(face_detail(yaw=yaw, pitch=pitch, roll=44.0), W, H)
    assert (type(problem) if problem else None) is expected


@pytest.mark.parametrize(
    "sunglasses,eyes_open,expected",
    [
        ((True, 97.0), (True, 90.0), EyesCovered),
        ((True, 80.0), (True, 90.0), EyesCovered),
        ((True, 62.0), (True, 90.0), None),  # unsure about sunglasses: not a reason to refuse
        ((False, 99.0), (False, 96.0), EyesCovered),
        ((False, 99.0), (False, 70.0), None),  # unsure the eyes are closed
    ],
)
def test_covered_or_closed_eyes(sunglasses, eyes_open, expected):
    problem = face_checks.problem(face_detail(sunglasses=sunglasses, eyes_open=eyes_open), W, H)
    assert (type(problem) if problem else None) is expected


@pytest.mark.parametrize(
    "sharpness,expected",
    [(face_checks.MIN_SHARPNESS - 0.1, FaceTooBlurry), (face_checks.MIN_SHARPNESS, None), (33.0, None)],
)
def test_blurred_faces(sharpness, expected):
    problem = face_checks.problem(face_detail(sharpness=sharpness), W, H)
    assert (type(problem) if problem else None) is expected


def test_size_is_checked_before_pose_and_eyes():
    face = face_detail(width=0.02, height=0.02, yaw=80.0, sunglasses=(True, 99.0))
    assert isinstance(face_checks.problem(face, W, H), FaceTooSmall)


def test_every_rejection_is_a_named_rejected_error():
    for face in (None, face_detail(width=0.01), face_detail(yaw=60.0), face_detail(eyes_open=(False, 99.0))):
        problem = face_checks.problem(face, W, H)
        assert isinstance(problem, Rejected) and problem.message


def test_the_largest_face_wins():
    visitor = face_detail(left=0.3, width=0.35, height=0.45)
    background = face_detail(left=0.8, top=0.1, width=0.1, height=0.12)
    assert face_checks.largest_face([background, visitor]) is visitor
    assert face_checks.usable_face([background, visitor], W, H) is visitor


def test_the_largest_face_is_judged_even_when_a_smaller_one_would_do():
    turned_visitor = face_detail(left=0.3, width=0.35, height=0.45, yaw=50.0)
    frontal_bystander = face_detail(left=0.75, top=0.1, width=0.15, height=0.2)
    with pytest.raises(FaceNotFrontal):
        face_checks.usable_face([frontal_bystander, turned_visitor], W, H)


def test_low_confidence_faces_are_ignored_even_when_larger():
    ghost = face_detail(left=0.0, top=0.0, width=0.9, height=0.9, confidence=face_checks.MIN_CONFIDENCE - 5)
    visitor = face_detail()
    assert face_checks.largest_face([ghost, visitor]) is visitor
    assert face_checks.usable_face([ghost, visitor], W, H) is visitor


def test_a_face_without_confidence_is_ignored():
    face = face_detail()
    del face["Confidence"]
    assert face_checks.largest_face([face]) is None
