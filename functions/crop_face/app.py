"""CropFace: find the visitor's face and write faces/{visitId}.png."""

from gallery import catalog, crop
from gallery.runtime import client, logger, table, timed, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    visit = event["visit"]
    logger.set_correlation_id(visit["visitId"])
    face = timed(crop.crop_face, client("s3"), client("rekognition"), visit["bucket"], visit["key"], visit["visitId"])
    # Gender, age and skin tone stay out of this result (it lands in execution history); the
    # visit item keeps what matching needs.
    traits = catalog.face_traits({k: face.pop(k) for k in ("gender", "ageRange", "skinTone") if k in face})
    catalog.remember_traits(table("VISITS_TABLE"), visit["visitId"], traits)
    logger.info("face cropped", extra={"faces": face["faces"], "ms": face["ms"]})
    return face
