"""Operator alerts on the Slack incoming webhook.

The webhook URL is a secret: its path is the credential, anyone who has it can post to the
channel. requests puts the URL (or its path) into its exception messages, and an error here
travels on into the execution history (90 days), the function's log and X-Ray. So no error
raised here carries the URL, any part of its path or query, or the exception that held it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from gallery.contracts import SlackPayload
from gallery.visits import DONE, FAILED, REJECTED

STATUS_ICON = {DONE: ":frame_with_picture:", REJECTED: ":leftwards_arrow_with_hook:", FAILED: ":rotating_light:"}


class SlackUnavailable(Exception):
    """The webhook did not accept the message. The visit's outcome does not depend on it."""


def message(outcome: Mapping[str, Any]) -> SlackPayload:
    visit = outcome["visit"]
    status = outcome["status"]
    head = f"{STATUS_ICON.get(status, '')} Display {visit['displayId']}: visit `{visit['visitId']}` is *{status}*"
    lines = [head.strip(), f"theme: {visit.get('theme')}"]
    if status == DONE:
        portrait = outcome.get("portrait") or {}
        lines.append(f"portrait: {portrait.get('title') or portrait.get('portraitId')}")
        if outcome.get("timings"):
            lines.append("timings (ms): " + ", ".join(f"{k} {v}" for k, v in outcome["timings"].items()))
    else:
        lines.append(f"error: {outcome.get('reason')}: {outcome.get('message')}")
    if outcome.get("executionArn"):
        lines.append(f"execution: {outcome['executionArn']}")
    return {"text": "\n".join(lines)}


def where(url: str) -> str:
    """The part of a URL that may be shown: scheme and host, never the path or query."""
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.hostname or '?'}" + (f":{parts.port}" if parts.port else "")
    except ValueError:
        return "a webhook URL that cannot be parsed"


def scrub(text: str, url: str) -> str:
    """`text` with every piece of `url` beyond its host (path, query, their encoded forms, each
    path segment) replaced: an error page or proxy may echo any of them back."""
    secrets = {url}
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts:
        secrets.update({parts.path, parts.query, parts.fragment, quote(parts.path)})
        secrets.update(s for s in parts.path.split("/") if len(s) >= 4)
    for secret in sorted((s for s in secrets if s and s != "/"), key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text


def post(webhook_url: str, payload: SlackPayload, timeout: float = 3.0) -> None:
    failure = None
    try:
        resp = requests.post(webhook_url, json=payload, timeout=timeout)
    except (requests.RequestException, ValueError) as e:
        # Only the exception's kind leaves this block: its message names the URL, and raising
        # from inside the block would chain it as __context__ for tracebacks to print.
        failure = type(e).__name__
    if failure:
        raise SlackUnavailable(f"Slack did not answer at {where(webhook_url)} ({failure}).")
    if resp.status_code >= 300:
        raise SlackUnavailable(f"Slack answered {resp.status_code}: {scrub(resp.text[:200], webhook_url)}")
