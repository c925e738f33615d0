"""Signed requests that moto does not authorise itself, checked as AWS checks them.

- S3 presigned URLs (signature in the query string) and browser POST uploads (signature over a
  policy in the form): moto authorises S3 only from an Authorization header, and fails on these
  once IAM is enforced. S3 checks the signature with the signer's secret, the expiry, every
  condition of a POST policy, and then the signer's own IAM permissions.
- The local AppSync's IAM-signed requests: AppSync checks the SigV4 signature and that the
  signer may `appsync:GraphQL` on the field it calls.

The signers are moto's IAM users and assumed roles, with their policies as moto stores them."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse

from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from moto.iam.access_control import IAMPolicy, PermissionResult, create_access_key

_STAMP = "%Y%m%dT%H%M%SZ"


class Refused(Exception):
    """S3 answers 403 AccessDenied; the reason is for the log, as S3's own message is terse."""


def _signer(account_id: str, access_key_id: str, token: str | None) -> Any:
    headers = {"X-Amz-Security-Token": token} if token else {}
    try:
        return create_access_key(account_id, "aws", access_key_id, headers)
    except Exception as e:  # moto raises its own error types for unknown keys
        raise Refused(f"unknown access key {access_key_id}") from e


def allowed(policies: list, action: str, resource: str) -> bool:
    """IAM's decision over a principal's policies: no explicit deny, and some allow."""
    results = [IAMPolicy(p).is_action_permitted(action, resource) for p in policies]
    return PermissionResult.DENIED not in results and PermissionResult.PERMITTED in results


def _allowed(signer: Any, action: str, resource: str) -> bool:
    return allowed(signer.collect_policies(), action, resource)


def role_allows(role_arn: str, action: str, resource: str) -> bool:
    """A role's decision, from its policies as moto holds them now, for the hops AWS authorises
    without a signed request (an EventBridge rule's target role)."""
    from moto.iam.models import ManagedPolicy, iam_backends

    account_id, name = role_arn.split(":")[4], role_arn.rsplit("/", 1)[1]
    backend = iam_backends[account_id]["aws"]
    # Inline policies' documents and the attached managed policies themselves (IAMPolicy takes both).
    policies: list[str | ManagedPolicy] = [
        backend.get_role_policy(name, p)[1] for p in backend.list_role_policies(name)
    ]
    policies += backend.list_attached_role_policies(name)[0]
    return allowed(policies, action, resource)


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def check_query_signed(account_id: str, method: str, url: str, host: str, action: str, resource: str) -> None:
    """A presigned URL: signature, expiry, then the signer's permission for the action."""
    parsed = urlparse(url)
    params = dict(parse_qsl(parsed.query, keep_blank_values=True))
    credential = params["X-Amz-Credential"].split("/")
    access_key_id, region = credential[0], credential[2]
    signed_at = dt.datetime.strptime(params["X-Amz-Date"], _STAMP).replace(tzinfo=dt.timezone.utc)
    expires = int(params.get("X-Amz-Expires", "0"))
    if dt.datetime.now(dt.timezone.utc) > signed_at + dt.timedelta(seconds=expires):
        raise Refused("Request has expired")
    signer = _signer(account_id, access_key_id, params.get("X-Amz-Security-Token"))
    unsigned = [(k, v) for k, v in parse_qsl(parsed.query, keep_blank_values=True) if k != "X-Amz-Signature"]
    request = AWSRequest(method=method, url=parsed._replace(query=urlencode(unsigned)).geturl(), headers={"host": host})
    request.context["timestamp"] = params["X-Amz-Date"]
    auth = S3SigV4QueryAuth(signer.create_credentials(), "s3", region, expires=expires)
    expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    if not hmac.compare_digest(expected, params.get("X-Amz-Signature", "")):
        raise Refused("The request signature we calculated does not match the signature you provided")
    if not _allowed(signer, action, resource):
        raise Refused(f"{access_key_id} may not {action} on {resource}")


def check_post_policy(account_id: str, bucket: str | None, form: dict[str, str], size: int) -> None:
    """A browser POST upload: the policy's signature, expiry and every condition, then the
    signer's permission to put the key."""
    fields = {k.lower(): v for k, v in form.items()}
    if "policy" not in fields or "x-amz-signature" not in fields:
        raise Refused("anonymous POST uploads are not allowed on a private bucket")
    credential = fields["x-amz-credential"].split("/")
    access_key_id, date, region, service = credential[0], credential[1], credential[2], credential[3]
    signer = _signer(account_id, access_key_id, fields.get("x-amz-security-token"))
    secret = signer.create_credentials().secret_key
    expected = hmac.new(
        _signing_key(secret, date, region, service), fields["policy"].encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, fields["x-amz-signature"]):
        raise Refused("The POST policy signature does not match")
    policy = json.loads(base64.b64decode(fields["policy"]))
    expiration = dt.datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    if dt.datetime.now(dt.timezone.utc) > expiration:
        raise Refused("Invalid according to Policy: Policy expired.")
    values = {**fields, "bucket": bucket}
    covered = {"bucket"}
    for condition in policy.get("conditions", []):
        if isinstance(condition, dict):
            ((name, expected_value),) = condition.items()
            op, name = "eq", f"${name}"
        else:
            op, name, expected_value = condition[0].lower(), condition[1], condition[2]
        if op == "content-length-range":
            if not int(name) <= size <= int(expected_value):
                raise Refused(f"Your proposed upload size {size} is outside {name}..{expected_value}")
            continue
        field = name.lstrip("$").lower()
        covered.add(field)
        actual = values.get(field)
        if actual is None:
            raise Refused(f"Invalid according to Policy: Policy Condition failed: {condition}")
        if op == "eq" and actual != expected_value or op == "starts-with" and not actual.startswith(expected_value):
            raise Refused(f"Invalid according to Policy: Policy Condition failed: {condition}")
    exempt = {"policy", "x-amz-signature", "file"}
    extra = [f for f in fields if f not in covered and f not in exempt and not f.startswith("x-ignore-")]
    if extra:
        raise Refused(f"Invalid according to Policy: Extra input fields: {extra}")
    key = fields["key"]
    if not _allowed(signer, "s3:PutObject", f"arn:aws:s3:::{bucket}/{key}"):
        raise Refused(f"{access_key_id} may not s3:PutObject on {bucket}/{key}")


def check_header_signed(
    account_id: str, method: str, url: str, headers: dict[str, str], body: bytes, action: str, resources: list[str]
) -> None:
    """A request signed in its Authorization header (SigV4): the signature over the signed
    headers and the body, then the signer's permission for the action on every resource."""
    from botocore.auth import SigV4Auth

    lower = {k.lower(): v for k, v in headers.items()}
    auth = lower.get("authorization", "")
    fields = dict(part.strip().split("=", 1) for part in auth[len("AWS4-HMAC-SHA256 ") :].split(",") if "=" in part)
    credential = fields["Credential"].split("/")
    access_key_id, region, service = credential[0], credential[2], credential[3]
    signer = _signer(account_id, access_key_id, lower.get("x-amz-security-token"))
    signed = fields["SignedHeaders"].split(";")
    request = AWSRequest(method=method, url=url, data=body, headers={h: lower[h] for h in signed if h in lower})
    request.context["timestamp"] = lower["x-amz-date"]
    sigv4 = SigV4Auth(signer.create_credentials(), service, region)
    expected = sigv4.signature(sigv4.string_to_sign(request, sigv4.canonical_request(request)), request)
    if not hmac.compare_digest(expected, fields.get("Signature", "")):
        raise Refused("The request signature we calculated does not match the signature you provided")
    for resource in resources:
        if not _allowed(signer, action, resource):
            raise Refused(f"{access_key_id} may not {action} on {resource}")
