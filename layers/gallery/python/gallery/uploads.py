"""The tablet's upload: a presigned POST limited to one key, JPEG/PNG and the size limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gallery import images, keys
from gallery.contracts import PresignedUpload

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

UPLOAD_SECONDS = 300


def presigned_post(s3: S3Client, bucket: str, display_id: str, visit_id: str) -> PresignedUpload:
    key = keys.upload_key(display_id, visit_id)
    post = s3.generate_presigned_post(
        Bucket=bucket,
        Key=key,
        Fields={"Content-Type": "image/jpeg"},
        Conditions=[
            ["starts-with", "$Content-Type", "image/"],
            ["content-length-range", 1, images.MAX_BYTES],
        ],
        ExpiresIn=UPLOAD_SECONDS,
    )
    return {"url": post["url"], "fields": post["fields"], "key": key, "maxBytes": images.MAX_BYTES}
