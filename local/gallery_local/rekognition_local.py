"""Amazon Rekognition's DetectFaces, locally: the face engine answers in Rekognition's response
shape (face_engine/rekognition.py), with Rekognition's own checks on the image first. moto's
Rekognition is the API; `moto_hooks` routes its DetectFaces here.

    rekognition = LocalRekognition(read_s3).start()   # read_s3(bucket, key) -> bytes
    ...
    rekognition.stop()"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Self

from gallery_local import moto_hooks


class LocalRekognition:
    def __init__(self, read_s3: Callable[[str, str], bytes]) -> None:
        self.read_s3 = read_s3

    def start(self) -> Self:
        moto_hooks.set_face_detector(self.detect_faces, self.read_s3)
        return self

    def stop(self) -> None:
        moto_hooks.set_face_detector(None, None)

    @staticmethod
    def detect_faces(data: bytes) -> list[dict]:
        """FaceDetails for image bytes; ValueError for bytes that are no JPEG or PNG."""
        import cv2
        import numpy as np
        from moto.core.exceptions import JsonRESTError
        from PIL import Image

        from face_engine import rekognition  # the same engine answers Rekognition

        # Rekognition's checks, from the header, before anything is decoded: JPEG (an MPO is
        # one) or PNG; at least 80 px a side (AWS answers InvalidParameterException); at most
        # 10,000 px a side (documented for DetectLabels, assumed for DetectFaces).
        try:
            header = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as e:
            raise JsonRESTError("ImageTooLargeException", "Input image dimensions are too large.") from e
        except Exception as e:  # Pillow raises several types for bytes that are no image
            raise ValueError("not a JPEG or PNG image") from e
        (width, height), kind = header.size, header.format
        if kind not in ("JPEG", "MPO", "PNG"):
            raise ValueError(f"{kind} is not JPEG or PNG")
        if min(width, height) < 80:
            raise JsonRESTError("InvalidParameterException", "Request has invalid parameters")
        if max(width, height) > 10_000:
            raise JsonRESTError(
                "ImageTooLargeException",
                f"Input image dimensions {width} x {height} exceed maximum dimension size of 10000 pixels",
            )
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError("not a JPEG or PNG image")
        return rekognition.face_details(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
