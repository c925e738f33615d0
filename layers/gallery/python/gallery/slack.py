"""Operator alerts on the Slack incoming webhook."""

from __future__ import annotations

import requests

STATUS_ICON = {"DONE": ":frame_with_picture:", "REJECTED": ":leftwards_arrow_with_hook:", "FAILED": ":rotating_light:"}


class SlackUnavailable(Exception):
    """The webhook did not accept the message. The visit's outcome does not depend on it."""


def message(outcome: dict) -> dict:
    visit = outcome["visit"]
    status = outcome["status"]
    head = f"{STATUS_ICON.get(status, '')} Display {visit['displayId']}: visit `{visit['visitId']}` is *{status}*"
    lines = [head.strip(), f"theme: {visit.get('theme')}"]
    if status == "DONE":
        portrait = outcome.get("portrait") or {}
        lines.append(f"portrait: {portrait.get('title') or portrait.get('portraitId')}")
        if outcome.get("timings"):
            lines.append("timings (ms): " + ", ".join(f"{k} {v}" for k, v in outcome["timings"].items()))
    else:
        lines.append(f"error: {outcome.get('reason')}: {outcome.get('message')}")
    if outcome.get("executionArn"):
        lines.append(f"execution: {outcome['executionArn']}")
    return {"text": "\n".join(lines)}


def post(webhook_url: str, payload: dict, timeout: float = 3.0) -> None:
    try:
        resp = requests.post(webhook_url, json=payload, timeout=timeout)
    except requests.RequestException as e:
        raise SlackUnavailable(f"Slack did not answer: {e}") from e
    if resp.status_code >= 300:
        raise SlackUnavailable(f"Slack answered {resp.status_code}: {resp.text[:200]}")
