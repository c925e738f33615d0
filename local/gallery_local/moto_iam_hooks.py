"""The moto internals that IAM enforcement on the local stack patches, and why.

moto authorises signed requests once IAM is enforced, but differs from AWS in ways that would
refuse what AWS allows or allow what AWS refuses: it passes "*" as the resource of most
services, names some actions after the API operation, answers JSON services in XML, signs an
empty body as its parameters, authorises multi-object deletes on the bucket, and fails on
presigned URLs and browser POST uploads. Each patch here has a canary in
tests/e2e/test_moto_hooks.py; moto_hooks.install() installs these with the others."""

from __future__ import annotations

import json
import logging
import weakref
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlparse

from moto.awslambda.responses import LambdaResponse
from moto.core.exceptions import JsonRESTError
from moto.dynamodb.responses import DynamoHandler
from moto.iam.access_control import IAMRequest, IAMRequestBase
from moto.s3.responses import S3Response
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse
from moto.secretsmanager.responses import SecretsManagerResponse
from moto.sns.responses import SNSResponse
from moto.stepfunctions.responses import StepFunctionResponse

from gallery_local import signatures

log = logging.getLogger("gallery_local.iam")


# --- IAM: the resource a request acts on -------------------------------------------------------
# With IAM enforced, moto checks each request's action against the caller's policies, but for
# most services it passes the resource as "*", which matches only statements whose Resource is
# "*": a role scoped to one table would be refused what AWS allows, and a role scoped to the
# wrong table would not be caught. moto asks a response for `_determine_resource()` when it has
# one (it does so for SQS); these give the ARN AWS authorises for the services the stack uses.


def _json_body(response: Any) -> dict:
    if isinstance(response.body, dict):  # DynamoDB's handler has parsed it already
        return response.body
    try:
        return json.loads(response.body or "{}")
    except (TypeError, ValueError):
        return {}


def _arn(response: Any, service: str, resource: str) -> str:
    return f"arn:aws:{service}:{response.region}:{response.current_account}:{resource}"


def _dynamodb_resource(self: Any) -> str:
    body = _json_body(self)
    table = body.get("TableName")
    if table is None:  # BatchGetItem, BatchWriteItem, TransactWriteItems, TransactGetItems
        items = body.get("RequestItems") or {}
        tables = list(items) or [next(iter(t.values())).get("TableName") for t in body.get("TransactItems") or [] if t]
        table = tables[0] if tables else None
    if not table:
        return "*"
    if table.startswith("arn:"):
        return table
    index = body.get("IndexName")
    return _arn(self, "dynamodb", f"table/{table}" + (f"/index/{index}" if index else ""))


def _sns_resource(self: Any) -> str:
    return self._get_param("TopicArn") or self._get_param("TargetArn") or "*"


def _states_resource(self: Any) -> str:
    body = _json_body(self)
    for key in ("stateMachineArn", "executionArn"):
        if body.get(key):
            return body[key]
    token = body.get("taskToken")
    if token:  # a task token acts on the state machine whose execution waits for it
        for execution in self.stepfunction_backend._get_executions():
            pool = getattr(getattr(execution.exec_worker, "env", None), "callback_pool_manager", None)
            if pool is not None and token in pool._pool:
                return execution.state_machine_arn
    return "*"


def _sagemaker_runtime_resource(self: Any) -> str:
    parts = self.path.split("/")
    return _arn(self, "sagemaker", f"endpoint/{parts[2].lower()}") if len(parts) > 2 else "*"


def _sagemaker_resource(self: Any) -> str:
    # The endpoint calls (DescribeEndpoint...) name it in the JSON body; AWS checks its ARN.
    name = _json_body(self).get("EndpointName")
    return _arn(self, "sagemaker", f"endpoint/{name.lower()}") if name else "*"


def _secretsmanager_resource(self: Any) -> str:
    secret_id = _json_body(self).get("SecretId")
    if not secret_id:
        return "*"
    try:
        return self.backend.describe_secret(secret_id).arn
    except Exception:  # an unknown secret: moto answers ResourceNotFound after authorising
        return secret_id if secret_id.startswith("arn:") else "*"


def _lambda_resource(self: Any) -> str:
    parts = self.path.split("/")
    if "functions" in parts and parts.index("functions") + 1 < len(parts):
        name = unquote(parts[parts.index("functions") + 1])
        return name if name.startswith("arn:") else _arn(self, "lambda", f"function:{name}")
    return "*"


# moto names the action after the API operation; IAM names a few differently.
_IAM_ACTION_NAMES = {"lambda:Invoke": "lambda:InvokeFunction", "lambda:InvokeAsync": "lambda:InvokeFunction"}
_original_check_action_permitted = IAMRequestBase.check_action_permitted


# The resource each request was checked on, for its AccessDenied message (moto keeps none).
_checked_resource: weakref.WeakKeyDictionary[IAMRequestBase, str] = weakref.WeakKeyDictionary()


def _check_action_permitted(self: IAMRequestBase, resource: str) -> None:
    self._action = _IAM_ACTION_NAMES.get(self._action, self._action)
    _checked_resource[self] = resource
    _original_check_action_permitted(self, resource)


# moto answers a refused request in XML whatever the protocol; JSON services (DynamoDB, Step
# Functions, Lambda, Secrets Manager, Rekognition...) answer AWS's JSON error, which is what
# botocore turns into the error code a handler catches.
_original_raise_access_denied = IAMRequest._raise_access_denied
_original_raise_invalid_access_key = IAMRequest._raise_invalid_access_key


def _json_protocol(self: IAMRequest) -> bool:
    headers = {k.lower(): v for k, v in self._headers.items()}
    return "x-amz-target" in headers or "json" in headers.get("content-type", "")


def _raise_access_denied(self: IAMRequest) -> None:
    if not _json_protocol(self):
        _original_raise_access_denied(self)
    raise JsonRESTError(
        "AccessDeniedException",
        f"User: {self._access_key.arn} is not authorized to perform: {self._action} "
        f"on resource: {_checked_resource.get(self, '*')} because no identity-based policy allows the "
        f"{self._action} action",
    )


def _raise_invalid_access_key(self: IAMRequest, reason: str) -> None:
    if not _json_protocol(self):
        _original_raise_invalid_access_key(self, reason)
    raise JsonRESTError("UnrecognizedClientException", "The security token included in the request is invalid.")


# moto signs an empty body as its parsed parameters; the client signed the empty body
# (SageMaker runtime's InvokeEndpointAsync carries everything in headers).
_original_create_aws_request = IAMRequest._create_aws_request


def _create_aws_request(self: IAMRequest) -> Any:
    request = _original_create_aws_request(self)
    form = "x-www-form-urlencoded" in str(self._headers.get("Content-Type", ""))
    if not self._body and not form:  # a query-protocol body was parsed into _data: keep it
        request.data = b""
    return request


_RESOURCE_HOOKS = {
    DynamoHandler: _dynamodb_resource,
    SNSResponse: _sns_resource,
    StepFunctionResponse: _states_resource,
    SageMakerRuntimeResponse: _sagemaker_runtime_resource,
    SageMakerResponse: _sagemaker_resource,
    SecretsManagerResponse: _secretsmanager_resource,
    LambdaResponse: _lambda_resource,
}


# --- S3: presigned URLs and POST uploads under IAM ---------------------------------------------
# moto authorises S3 only from the Authorization header and fails (500) on a presigned URL or a
# browser POST once IAM is enforced; signatures checks them as S3 does.

_original_s3_auth = S3Response._authenticate_and_authorize_s3_action


def _s3_auth(self: S3Response, bucket_name: str | None = None, key_name: str | None = None) -> None:
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.s3.exceptions import S3AccessDeniedError

    enforcing = ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT
    if self.method == "OPTIONS":  # a CORS preflight carries no credentials, on AWS too
        return None
    if enforcing and self.method == "POST" and not key_name and self.is_delete_keys():
        # DeleteObjects is authorised per key (s3:DeleteObject on each key's ARN), not on the
        # bucket as moto asks; a key the caller may not delete refuses the whole request here.
        import xmltodict

        objects = xmltodict.parse(self.body or b"<Delete/>").get("Delete", {}).get("Object", [])
        for obj in objects if isinstance(objects, list) else [objects]:
            _original_s3_auth(self, bucket_name=bucket_name, key_name=obj["Key"])
        return None
    if not enforcing or "Authorization" in self.headers:
        return _original_s3_auth(self, bucket_name=bucket_name, key_name=key_name)
    query = urlparse(self.uri).query
    target = f"{bucket_name or '*'}/{key_name}" if key_name else (bucket_name or "*")
    try:
        if "X-Amz-Credential=" in query:
            signatures.check_query_signed(
                self.current_account,
                self.method,
                f"http://{self.headers.get('Host')}{self.raw_path}?{query}",
                self.headers.get("Host", ""),
                f"s3:{self._get_action()}",
                f"arn:aws:s3:::{target}",
            )
        elif self.method == "POST" and "key" in self.querystring and not key_name:
            form = {k: v for k, v in self.form_data.items() if k != "file"}
            body = self.body if isinstance(self.body, bytes) else str(self.body or "").encode()
            signatures.check_post_policy(self.current_account, bucket_name, form, len(body))
        else:
            raise signatures.Refused("anonymous request to a private bucket")
    except (signatures.Refused, KeyError, ValueError) as e:
        log.info("S3 refused a signed request for %s: %s", target, e)
        raise S3AccessDeniedError() from e
    return None


# (owner, attribute, replacement): moto_hooks' _PATCHES takes these in, so its install() sets
# them and its ORIGINALS keeps what they replace.
PATCHES: list[tuple[type, str, Callable[..., Any]]] = [
    (S3Response, "_authenticate_and_authorize_s3_action", _s3_auth),
    (IAMRequestBase, "check_action_permitted", _check_action_permitted),
    (IAMRequest, "_create_aws_request", _create_aws_request),
    (IAMRequest, "_raise_access_denied", _raise_access_denied),
    (IAMRequest, "_raise_invalid_access_key", _raise_invalid_access_key),
    *((cls, "_determine_resource", determine) for cls, determine in _RESOURCE_HOOKS.items()),
]
