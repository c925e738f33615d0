"""CropFace: find the visitor's face and write faces/{visitId}.png."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from gallery import catalog, crop
from gallery.contracts import CropFaceInput, CroppedFace
from gallery.runtime import client, logger, table, timed, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: CropFaceInput, context: LambdaContext) -> CroppedFace:
    visit = event["visit"]
    logger.set_correlation_id(visit["visitId"])
    s3, rekognition = client("s3"), client("rekognition")
    face, ms = timed(crop.crop_face, s3, rekognition, visit["bucket"], visit["key"], visit["visitId"])
    # Gender, age and skin tone stay out of this result (it lands in execution history); the
    # visit item keeps what matching needs.
    catalog.remember_traits(table("VISITS_TABLE"), visit["visitId"], catalog.face_traits(face))
    logger.info("face cropped", extra={"faces": face["faces"], "ms": ms})
    return {"key": face["key"], "faces": face["faces"], "box": face["box"], "ms": ms}
