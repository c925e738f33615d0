"""The local stack's checks of signed S3 requests (gallery_local.signatures), on moto's IAM:
what S3 refuses of a presigned POST or URL, it refuses too."""

from __future__ import annotations

import json
import threading

import pytest
from botocore.config import Config

from gallery_local import lambda_env, signatures

ACCOUNT = "123456789012"
BUCKET = "photos"
KEY = "uploads/3/" + "ab" * 16 + ".jpg"


def _signer(session, name: str, statements: list[dict]):
    iam = session.client("iam")
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(
            UserName=name,
            PolicyName="p",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
        )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return session.client(
        "s3",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        config=Config(signature_version="s3v4"),
    )


@pytest.fixture
def tablet_s3(aws_session):
    return _signer(
        aws_session,
        "tablet",
        [
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/uploads/*"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/results/*"},
        ],
    )


def _post(s3, expires: int = 300) -> dict:
    post = s3.generate_presigned_post(
        Bucket=BUCKET,
        Key=KEY,
        Fields={"Content-Type": "image/jpeg"},
        Conditions=[["starts-with", "$Content-Type", "image/"], ["content-length-range", 1, 1000]],
        ExpiresIn=expires,
    )
    return dict(post["fields"])


def test_a_presigned_post_within_its_policy_is_accepted(tablet_s3):
    signatures.check_post_policy(ACCOUNT, BUCKET, _post(tablet_s3), 500)


@pytest.mark.parametrize(
    "change, size",
    [
        ({"key": "uploads/3/" + "cd" * 16 + ".jpg"}, 500),  # another visit's key
        ({"Content-Type": "application/pdf"}, 500),  # outside starts-with image/
        ({"acl": "public-read"}, 500),  # a field no condition covers
        ({}, 5000),  # over content-length-range
        ({}, 0),  # under it
        ({"x-amz-signature": "0" * 64}, 500),  # forged
    ],
)
def test_a_presigned_post_outside_its_policy_is_refused(tablet_s3, change, size):
    with pytest.raises(signatures.Refused):
        signatures.check_post_policy(ACCOUNT, BUCKET, {**_post(tablet_s3), **change}, size)


def test_an_expired_post_is_refused(tablet_s3):
    with pytest.raises(signatures.Refused, match="expired"):
        signatures.check_post_policy(ACCOUNT, BUCKET, _post(tablet_s3, expires=-5), 500)


def test_a_post_signed_by_someone_who_may_not_put_is_refused(aws_session):
    reader = _signer(aws_session, "reader", [])
    with pytest.raises(signatures.Refused, match="may not s3:PutObject"):
        signatures.check_post_policy(ACCOUNT, BUCKET, _post(reader), 500)


def test_presigned_urls(tablet_s3):
    def check(url: str, key: str) -> None:
        host = url.split("/")[2]
        signatures.check_query_signed(ACCOUNT, "GET", url, host, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/{key}")

    good = tablet_s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "results/a.png"})
    check(good, "results/a.png")
    with pytest.raises(signatures.Refused, match="signature"):
        check(good.replace("X-Amz-Signature=", "X-Amz-Signature=0"), "results/a.png")
    outside = tablet_s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "faces/a.png"})
    with pytest.raises(signatures.Refused, match="may not s3:GetObject"):
        check(outside, "faces/a.png")
    expired = tablet_s3.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "results/a.png"}, ExpiresIn=-1
    )
    with pytest.raises(signatures.Refused, match="expired"):
        check(expired, "results/a.png")


def test_a_handler_thread_sees_only_its_functions_environment(monkeypatch):
    environ = lambda_env.install()
    monkeypatch.setenv("PROCESS_ONLY", "yes")
    seen: dict[str, object] = {}

    def handler() -> None:
        with environ.function({"VISITS_TABLE": "visits", "AWS_ACCESS_KEY_ID": "ASIAROLE"}):
            import os

            seen["inside"] = dict(os.environ)
            os.environ["WRITTEN"] = "by the handler"
        seen["after"] = "WRITTEN" in environ

    thread = threading.Thread(target=handler)
    thread.start()
    thread.join()
    assert seen["inside"] == {"VISITS_TABLE": "visits", "AWS_ACCESS_KEY_ID": "ASIAROLE"}
    assert seen["after"] is False and "WRITTEN" not in environ
    assert environ["PROCESS_ONLY"] == "yes"


def test_boto3_clients_follow_the_thread_environment(monkeypatch):
    from gallery import runtime

    environ = lambda_env.install()
    keys: list[str] = []

    def call(key: str) -> None:
        with environ.function({"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "us-east-1"}):
            keys.append(runtime.credentials().access_key)

    for key in ("ASIAONE", "ASIATWO"):
        thread = threading.Thread(target=call, args=(key,))
        thread.start()
        thread.join()
    assert keys == ["ASIAONE", "ASIATWO"]
