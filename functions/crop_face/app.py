"""CropFace: find the visitor's face and write faces/{visitId}.png."""

import time

from gallery import crop
from gallery.runtime import client, logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    visit = event["visit"]
    logger.set_correlation_id(visit["visitId"])
    started = time.perf_counter()
    face = crop.crop_face(client("s3"), client("rekognition"), visit["bucket"], visit["key"], visit["visitId"])
    face["ms"] = int((time.perf_counter() - started) * 1000)
    logger.info("face cropped", extra={"faces": face["faces"], "ms": face["ms"]})
    return face
