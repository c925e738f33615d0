"""face_details answers in Rekognition DetectFaces' FaceDetails shape."""

from __future__ import annotations

import numpy as np
from _engine_path import bundled_photo, photo, resized, side_by_side

from face_engine.rekognition import face_details

REQUIRED_MARKS = {"eyeLeft", "eyeRight", "nose", "mouthLeft", "mouthRight", "leftPupil", "rightPupil", "chinBottom"}


def test_face_details_shape_and_normalisation() -> None:
    # Two women side by side, the one on the right further away.
    img = side_by_side(bundled_photo("visitor-e.jpg"), resized(bundled_photo("visitor-d.jpg"), 0.8))
    h, w = img.shape[:2]
    details = face_details(img)
    assert len(details) == 2
    areas = [d["BoundingBox"]["Width"] * d["BoundingBox"]["Height"] for d in details]
    assert areas == sorted(areas, reverse=True)
    for d in details:
        bb = d["BoundingBox"]
        assert set(bb) == {"Width", "Height", "Left", "Top"}
        assert 0 <= bb["Left"] < 1 and 0 <= bb["Top"] < 1
        assert 0 < bb["Width"] <= 1 - bb["Left"] + 1e-9 and 0 < bb["Height"] <= 1 - bb["Top"] + 1e-9
        # Boxes are in normalised units: a face here is 100-140 px of a 1480 px wide image.
        assert 60 < bb["Width"] * w < 300
        marks = {m["Type"]: (m["X"], m["Y"]) for m in d["Landmarks"]}
        assert REQUIRED_MARKS <= marks.keys()
        for x, y in marks.values():
            assert bb["Left"] - 0.02 <= x <= bb["Left"] + bb["Width"] + 0.02
            assert bb["Top"] - 0.02 <= y <= bb["Top"] + bb["Height"] + 0.02
        # Viewer's left/right, as Rekognition reports them.
        assert marks["eyeLeft"][0] < marks["eyeRight"][0]
        assert marks["mouthLeft"][0] < marks["mouthRight"][0]
        assert marks["eyeLeft"][1] < marks["nose"][1] < marks["chinBottom"][1]
        assert set(d["Pose"]) == {"Roll", "Yaw", "Pitch"}
        assert all(-180 <= v <= 180 for v in d["Pose"].values())
        assert set(d["Quality"]) == {"Brightness", "Sharpness"}
        assert all(0 <= v <= 100 for v in d["Quality"].values())
        assert 50 < d["Confidence"] <= 100
        for attr in ("EyesOpen", "MouthOpen", "Smile"):
            assert isinstance(d[attr]["Value"], bool) and 50 <= d[attr]["Confidence"] <= 100
        assert d["Gender"]["Value"] in {"Male", "Female"} and 50 <= d["Gender"]["Confidence"] <= 100
        assert 0 <= d["AgeRange"]["Low"] < d["AgeRange"]["High"] <= 90


def test_face_details_empty_for_no_face_and_mouth_open_is_seen() -> None:
    assert face_details(np.zeros((300, 300, 3), np.uint8)) == []
    # visitor-c.jpg (the shared obama2.jpg) is mid-speech (mouth open, no smile); visitor-a.jpg
    # (obama.jpg) grins with parted lips.
    talking, grin = (face_details(bundled_photo(n))[0] for n in ("visitor-c.jpg", "visitor-a.jpg"))
    assert talking["MouthOpen"]["Value"] is True and talking["Smile"]["Value"] is False
    assert grin["Smile"]["Value"] is True and grin["EyesOpen"]["Value"] is True


def test_a_closed_mouth_is_seen() -> None:
    # No bundled photo has a closed mouth: biden.jpg of the shared data does.
    closed = face_details(photo("biden.jpg"))[0]
    assert closed["MouthOpen"]["Value"] is False
