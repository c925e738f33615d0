"""CropFace: find the visitor's face and write faces/{visitId}.png."""

from gallery import crop
from gallery.runtime import client, logger, timed, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    visit = event["visit"]
    logger.set_correlation_id(visit["visitId"])
    face = timed(crop.crop_face, client("s3"), client("rekognition"), visit["bucket"], visit["key"], visit["visitId"])
    logger.info("face cropped", extra={"faces": face["faces"], "ms": face["ms"]})
    return face
