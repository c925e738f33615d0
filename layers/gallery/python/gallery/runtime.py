"""What every handler needs from its Lambda environment: settings, AWS clients, Powertools.

Clients are cached per endpoint setting, because a warm Lambda reuses them between calls and
a process running several stacks (tests) must not talk to a previous one."""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
_local = threading.local()


def setting(name: str) -> str:
    try:
        return os.environ[name]
    except KeyError:
        raise RuntimeError(f"The function's environment has no {name}; see template.yaml Globals.") from None


@lru_cache(maxsize=64)
def _client(service: str, endpoint: str | None, region: str | None) -> Any:
    return boto3.session.Session().client(service, region_name=region)


def client(service: str) -> Any:
    return _client(service, os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_REGION"))


def table(env_name: str) -> Any:
    """A DynamoDB Table for the table named in `env_name`. Resources are not thread-safe,
    so each thread gets its own."""
    key = (setting(env_name), os.environ.get("AWS_ENDPOINT_URL"))
    cache = _local.__dict__.setdefault("tables", {})
    if key not in cache:
        session = boto3.session.Session()
        cache[key] = session.resource("dynamodb", region_name=os.environ.get("AWS_REGION")).Table(key[0])
    return cache[key]


def credentials() -> Any:
    return boto3.session.Session().get_credentials()


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
