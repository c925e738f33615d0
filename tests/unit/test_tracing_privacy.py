"""What the functions leave in X-Ray (kept 30 days, never deletable) and in their logs.

The tracer is told once, in template.yaml's Globals, to record neither handler responses
(presigned URLs, visit data) nor exception objects; no decorator may turn that back on, and no
handler may log its whole event. A real X-Ray segment emitter in a Lambda-like subprocess shows
what a trace then holds."""

from __future__ import annotations

import ast
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import load_template
from tests.unit._functions import invoke, load_event
from tests.unit.test_handlers_events import (  # noqa: F401 - fixtures used by name
    _fresh_runtime_clients,
    aws,
    body_of,
)

ROOT = Path(__file__).resolve().parents[2]
GLOBAL_ENV = {
    str(k): str(v)
    for k, v in load_template()["Globals"]["Function"]["Environment"]["Variables"].items()
    if isinstance(v, str)
}
SOURCES = sorted((ROOT / "functions").glob("*/app.py")) + sorted((ROOT / "layers/gallery/python/gallery").glob("*.py"))
TRACER_DECORATORS = {"capture_lambda_handler", "capture_method"}


def test_the_template_turns_tracer_capture_and_event_logging_off() -> None:
    assert GLOBAL_ENV["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
    assert GLOBAL_ENV["POWERTOOLS_TRACER_CAPTURE_ERROR"] == "false"
    assert GLOBAL_ENV["POWERTOOLS_LOGGER_LOG_EVENT"] == "false"


def _calls(tree: ast.AST) -> list[tuple[str, ast.Call | None]]:
    """(attribute name, the call if called with arguments) of every decorator in the tree."""
    found = []
    for node in ast.walk(tree):
        for deco in getattr(node, "decorator_list", []):
            call = deco if isinstance(deco, ast.Call) else None
            target = call.func if call else deco
            if isinstance(target, ast.Attribute):
                found.append((target.attr, call))
    return found


def _truthy(call: ast.Call | None, keyword: str) -> bool:
    """The keyword is passed as anything but a literal False (True, a variable, an env lookup)."""
    for kw in call.keywords if call else []:
        if kw.arg == keyword:
            return not (isinstance(kw.value, ast.Constant) and kw.value.value is False)
    return False


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_decorator_turns_capture_or_event_logging_back_on(path: Path) -> None:
    tree = ast.parse(path.read_text(), str(path))
    for name, call in _calls(tree):
        if name in TRACER_DECORATORS:
            for keyword in ("capture_response", "capture_error"):
                assert not _truthy(call, keyword), f"{path.name}: @tracer.{name}({keyword}=...) records visitor data"
        if name == "inject_lambda_context":
            assert not _truthy(call, "log_event"), f"{path.name}: log_event logs the whole event"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_handler_logs_its_event_or_an_upload(path: Path) -> None:
    """logger.<level>(event) or extra=upload would write the visit's event or a presigned POST."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "logger"
        ):
            continue
        # The whole event, or a presigned POST/URL, passed as a value (event["visit"] is fine).
        values = [*node.args, *(kw.value for kw in node.keywords)]
        whole = {v.id for v in values if isinstance(v, ast.Name)} & {"event", "upload", "post", "url"}
        assert not whole, f"{path.name}:{node.lineno} logs {whole}"


TRACED = """
import sys
sys.path.insert(0, "layers/gallery/python")
from gallery.runtime import tracer

@tracer.capture_lambda_handler
def answers(event, context):
    return {"imageUrl": "https://bucket/results/v.png?X-Amz-Signature=SIGNATURE-IN-RESPONSE"}

@tracer.capture_lambda_handler
def fails(event, context):
    raise RuntimeError("a plain sentence")

answers({}, None)
try:
    fails({}, None)
except RuntimeError:
    pass
"""


def _trace(env: dict[str, str]) -> list[dict]:
    """Run two traced handlers as Lambda would (a facade segment from _X_AMZN_TRACE_ID) and
    collect the subsegments the X-Ray SDK sends to its daemon address."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.bind(("127.0.0.1", 0))
        daemon.settimeout(10)
        lambda_env = {
            "PATH": os.environ["PATH"],
            "LAMBDA_TASK_ROOT": str(ROOT),
            "AWS_LAMBDA_FUNCTION_NAME": "past-life-gallery-dev-CreateVisitFunction",
            "AWS_REGION": "us-east-1",
            "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon.getsockname()[1]}",
            **env,
        }
        proc = subprocess.run([sys.executable, "-c", TRACED], cwd=ROOT, env=lambda_env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        segments = []
        while len(segments) < 2:
            header, _, body = daemon.recv(65536).decode().partition("\n")
            assert json.loads(header)["format"] == "json"
            segments.append(json.loads(body))
    return sorted(segments, key=lambda s: s["name"])


def test_a_trace_holds_no_response_and_no_exception_object() -> None:
    answers, fails = _trace({k: v for k, v in GLOBAL_ENV.items() if k.startswith("POWERTOOLS_")})
    assert answers["name"] == "## answers" and fails["name"] == "## fails"
    assert "SIGNATURE-IN-RESPONSE" not in json.dumps(answers)
    assert "metadata" not in answers and "metadata" not in fails
    # X-Ray itself records the exception's message whatever the tracer is told: that is why
    # errors are written without secrets or visitor data (see gallery.slack).
    assert fails["cause"]["exceptions"][0]["message"] == "a plain sentence"


def test_without_the_template_setting_a_trace_would_hold_the_response() -> None:
    """The control: Powertools' default records the response, so the test above can fail."""
    answers, fails = _trace({"POWERTOOLS_SERVICE_NAME": "gallery"})
    assert "SIGNATURE-IN-RESPONSE" in json.dumps(answers["metadata"])
    assert "fails error" in fails["metadata"]["gallery"]


@pytest.mark.usefixtures("aws")
def test_create_visit_logs_no_part_of_the_presigned_post(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")  # the most a function could ever log
    capsys.readouterr()
    response = invoke("create_visit", load_event("create_visit"))
    assert response["statusCode"] == 201, response
    fields = body_of(response)["upload"]["fields"]
    logged = "".join(capsys.readouterr())
    for name in ("policy", "x-amz-signature", "x-amz-credential", "x-amz-security-token"):
        if fields.get(name):
            assert fields[name] not in logged, f"the presigned POST's {name} is in the log"
