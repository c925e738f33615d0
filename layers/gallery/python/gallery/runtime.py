"""What every handler needs from its Lambda environment: settings, AWS clients, Powertools.

Clients and tables are made once per endpoint, region and credentials and reused, as a warm
Lambda reuses them between calls (making a boto3 session costs far more than a call). The
endpoint and the access key are part of the key, so a process that runs several functions or
local stacks (tests) never calls with another function's role or talks to an old stack."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar, overload

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from botocore.config import Config

if TYPE_CHECKING:
    # The stubs are dev-only (requirements-dev.txt): never imported in a Lambda.
    from botocore.credentials import Credentials
    from mypy_boto3_bedrock import BedrockClient
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_polly import PollyClient
    from mypy_boto3_rekognition import RekognitionClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sagemaker_runtime import SageMakerRuntimeClient
    from mypy_boto3_stepfunctions import SFNClient

logger = Logger()
tracer = Tracer()
metrics = Metrics()
_lock = threading.Lock()
_tables: dict[tuple[str, str | None, str | None, str | None], Table] = {}
_P = ParamSpec("_P")
_R = TypeVar("_R")


def setting(name: str) -> str:
    try:
        return os.environ[name]
    except KeyError:
        raise RuntimeError(f"The function's environment has no {name}; see template.yaml Globals.") from None


def _where() -> tuple[str | None, str | None, str | None]:
    """(endpoint, region, access key id) of the environment this code runs in."""
    return os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_REGION"), os.environ.get("AWS_ACCESS_KEY_ID")


@lru_cache(maxsize=64)
def _session(endpoint: str | None, region: str | None, access_key_id: str | None) -> boto3.session.Session:
    # Lambda puts the role's credentials in the environment; take them from there explicitly,
    # so the session holds exactly the credentials its cache key names.
    return boto3.session.Session(
        aws_access_key_id=access_key_id,
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY") if access_key_id else None,
        aws_session_token=os.environ.get("AWS_SESSION_TOKEN") if access_key_id else None,
        region_name=region,
    )


@lru_cache(maxsize=256)
def _client(service: str, endpoint: str | None, region: str | None, access_key_id: str | None) -> Any:
    # Presigned URLs must be SigV4: in the oldest regions botocore would otherwise sign S3 URLs
    # with SigV2, which new buckets refuse.
    config = Config(signature_version="s3v4") if service == "s3" else None
    with _lock:  # sessions are not thread-safe while they build clients
        # The stubs type client() per literal service name; this one is a name the caller chose.
        make: Callable[..., Any] = _session(endpoint, region, access_key_id).client
        return make(service, config=config)


# The services the functions call, each with its client's type (mypy_boto3_*): a new one needs
# its overload here and its extra in requirements-dev.txt's boto3-stubs.
@overload
def client(service: Literal["s3"]) -> S3Client: ...
@overload
def client(service: Literal["stepfunctions"]) -> SFNClient: ...
@overload
def client(service: Literal["rekognition"]) -> RekognitionClient: ...
@overload
def client(service: Literal["sagemaker"]) -> SageMakerClient: ...
@overload
def client(service: Literal["sagemaker-runtime"]) -> SageMakerRuntimeClient: ...
@overload
def client(service: Literal["polly"]) -> PollyClient: ...
@overload
def client(service: Literal["bedrock"]) -> BedrockClient: ...
@overload
def client(service: Literal["bedrock-runtime"]) -> BedrockRuntimeClient: ...
def client(service: str) -> Any:
    return _client(service, *_where())


def table(env_name: str) -> Table:
    """The DynamoDB Table named in `env_name`. Its item actions only call the underlying
    (thread-safe) client, so one Table serves every thread."""
    where = _where()
    key = (setting(env_name), *where)
    with _lock:
        if key not in _tables:
            _tables[key] = _session(*where).resource("dynamodb").Table(key[0])
        return _tables[key]


def credentials() -> Credentials | None:
    return _session(*_where()).get_credentials()


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def timed(step: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> tuple[_R, int]:
    """Run a pipeline step: its result and its duration in ms (`ms`, a stage timing the visit keeps)."""
    started = time.perf_counter()
    result = step(*args, **kwargs)
    return result, int((time.perf_counter() - started) * 1000)
