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
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from botocore.config import Config

logger = Logger()
tracer = Tracer()
metrics = Metrics()
_lock = threading.Lock()
_tables: dict[tuple[str, str | None, str | None, str | None], Any] = {}


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
        return _session(endpoint, region, access_key_id).client(service, config=config)


def client(service: str) -> Any:
    return _client(service, *_where())


def table(env_name: str) -> Any:
    """The DynamoDB Table named in `env_name`. Its item actions only call the underlying
    (thread-safe) client, so one Table serves every thread."""
    where = _where()
    key = (setting(env_name), *where)
    with _lock:
        if key not in _tables:
            _tables[key] = _session(*where).resource("dynamodb").Table(key[0])
        return _tables[key]


def credentials() -> Any:
    return _session(*_where()).get_credentials()


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def timed(step: Callable[..., dict], *args: Any) -> dict:
    """Run a pipeline step and add its duration as `ms`, which the visit keeps as a stage timing."""
    started = time.perf_counter()
    result = step(*args)
    result["ms"] = int((time.perf_counter() - started) * 1000)
    return result
