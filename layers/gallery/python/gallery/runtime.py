"""What every handler needs from its Lambda environment: settings, AWS clients, Powertools.

Clients and tables are made once per endpoint setting and reused, as a warm Lambda reuses
them between calls (making a boto3 session costs far more than a call). The endpoint is part
of the key so a process that runs several local stacks (tests) never talks to an old one."""

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
_tables: dict[tuple[str, str | None], Any] = {}


def setting(name: str) -> str:
    try:
        return os.environ[name]
    except KeyError:
        raise RuntimeError(f"The function's environment has no {name}; see template.yaml Globals.") from None


@lru_cache(maxsize=8)
def _session(endpoint: str | None, region: str | None) -> boto3.session.Session:
    return boto3.session.Session(region_name=region)


@lru_cache(maxsize=64)
def _client(service: str, endpoint: str | None, region: str | None) -> Any:
    # Presigned URLs must be SigV4: in the oldest regions botocore would otherwise sign S3 URLs
    # with SigV2, which new buckets refuse.
    config = Config(signature_version="s3v4") if service == "s3" else None
    with _lock:  # sessions are not thread-safe while they build clients
        return _session(endpoint, region).client(service, config=config)


def client(service: str) -> Any:
    return _client(service, os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_REGION"))


def table(env_name: str) -> Any:
    """The DynamoDB Table named in `env_name`. Its item actions only call the underlying
    (thread-safe) client, so one Table serves every thread."""
    endpoint, region = os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_REGION")
    key = (setting(env_name), endpoint)
    with _lock:
        if key not in _tables:
            _tables[key] = _session(endpoint, region).resource("dynamodb").Table(key[0])
        return _tables[key]


def credentials() -> Any:
    return _session(os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_REGION")).get_credentials()


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def timed(step: Callable[..., dict], *args: Any) -> dict:
    """Run a pipeline step and add its duration as `ms`, which the visit keeps as a stage timing."""
    started = time.perf_counter()
    result = step(*args)
    result["ms"] = int((time.perf_counter() - started) * 1000)
    return result
