"""One set of refusal names, one table of sentences.

A refusal is named three times: by its producer (the face engine's REASONS, or layer code that
raises a Rejected class), by the state machine's Catch (ErrorEquals), and by gallery/errors.py,
whose class holds the sentence the visitor reads. These tests keep the three in step, and keep
visitor sentences out of the engine and the web pages."""

from __future__ import annotations

import ast
import json
import re
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from _engine_path import bundled_photo, bundled_portrait
from cfnlint.decode import cfn_yaml

from face_engine import errors as engine_errors
from face_engine import server
from gallery import errors, inference
from gallery.errors import REJECTION_REASONS, GalleryError

ROOT = Path(__file__).resolve().parents[2]
ASL = json.loads((ROOT / "statemachine" / "pipeline.asl.json").read_text())
TEMPLATE = cfn_yaml.load(str(ROOT / "template.yaml"))
LAYER = ROOT / "layers" / "gallery" / "python" / "gallery"
ENGINE = ROOT / "containers" / "face" / "face_engine"
MARK_REJECTED = "MarkRejected"
# Names of errors raised by AWS services and the Lambda runtime rather than by our code.
SERVICE_ERROR = re.compile(r"States\..+|[A-Za-z]+\.[A-Za-z.]+|ThrottlingException|ServiceUnavailable")


def task_states(states: dict | None = None) -> dict[str, dict]:
    """Every Task state, in branches too, by name."""
    found: dict[str, dict] = {}
    for name, state in (ASL["States"] if states is None else states).items():
        if state["Type"] == "Task":
            found[name] = state
        for branch in state.get("Branches", []):
            found.update(task_states(branch["States"]))
    return found


def caught_as_rejected(state: dict) -> set[str]:
    return {name for c in state.get("Catch", []) if c["Next"] == MARK_REJECTED for name in c["ErrorEquals"]}


def waits_on_engine(state: dict) -> bool:
    return state["Resource"].endswith(".waitForTaskToken") and "Endpoint" in json.dumps(state["Parameters"])


def function_dir(state: dict) -> Path | None:
    """functions/<dir> of the Lambda a Task state invokes, through DefinitionSubstitutions."""
    m = re.fullmatch(r"\$\{(\w+)Arn\}", str(state.get("Parameters", {}).get("FunctionName", "")))
    if not m:
        return None
    code_uri = TEMPLATE["Resources"][m[1]]["Properties"]["CodeUri"]
    return ROOT / str(code_uri)


@cache
def layer_modules(path: Path) -> frozenset[Path]:
    """The layer modules a file imports, transitively (gallery.x and `from gallery import x`)."""
    found: set[Path] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module == "gallery":
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gallery."):
            names = [node.module.split(".")[1]]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".")[1] for a in node.names if a.name.startswith("gallery.")]
        for name in names:
            module = LAYER / f"{name}.py"
            if module.exists() and module not in found:
                found.add(module)
                found |= layer_modules(module)
    return frozenset(found)


def constructed(paths: frozenset[Path] | set[Path]) -> set[str]:
    """Names of Rejected classes that these files construct (raise X(...) or return X())."""
    out: set[str] = set()
    for path in paths:
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in REJECTION_REASONS:
                out.add(node.func.id)
    return out


def produced_by(state: dict) -> set[str]:
    """Rejected names a state can end with: the engine's reasons, or what its function's code raises."""
    if waits_on_engine(state):
        return set(engine_errors.REASONS)
    directory = function_dir(state)
    if directory is None:
        return set()
    app = directory / "app.py"
    return constructed(layer_modules(app) | {app})


# ---------------------------------------------------------------- names


def test_every_engine_reason_has_an_error_class_with_its_own_sentence():
    for reason in engine_errors.REASONS:
        assert reason in REJECTION_REASONS, f"the engine refuses with {reason}, which errors.py does not know"
        assert REJECTION_REASONS[reason].default_message != GalleryError.default_message


def test_a_refused_portrait_is_not_a_visitor_refusal():
    # Its name must not be one the state machine rejects with a visitor's sentence.
    assert engine_errors.PORTRAIT_REFUSED not in errors.ERRORS
    assert all(engine_errors.PORTRAIT_REFUSED not in caught_as_rejected(s) for s in task_states().values())


def test_every_state_waiting_on_the_engine_rejects_each_engine_reason_by_name():
    waiting = {name: s for name, s in task_states().items() if waits_on_engine(s)}
    assert set(waiting) == {"SwapFace", "RestoreFace"}
    for name, state in waiting.items():
        missing = set(engine_errors.REASONS) - caught_as_rejected(state)
        assert not missing, f"{name} would fail, not reject, a visit refused for {sorted(missing)}"


def test_only_rejections_lead_to_mark_rejected_and_every_caught_name_exists():
    for name, state in task_states().items():
        for c in state.get("Catch", []) + state.get("Retry", []):
            for error in c["ErrorEquals"]:
                assert error in errors.ERRORS or SERVICE_ERROR.fullmatch(error), f"{name} names unknown {error}"
        for error in caught_as_rejected(state):
            assert error in REJECTION_REASONS, f"{name} rejects the visit on {error}, which is not a Rejected error"


def reached_by(states: dict[str, dict]) -> dict[str, list[str]]:
    """For each Rejected class, the states that both produce it and catch it as a rejection."""
    reached: dict[str, list[str]] = {reason: [] for reason in REJECTION_REASONS}
    for name, state in states.items():
        for reason in caught_as_rejected(state) & produced_by(state):
            reached[reason].append(name)
    return reached


def test_every_rejected_class_is_produced_where_a_state_catches_it():
    reached = reached_by(task_states())
    assert [reason for reason, states in reached.items() if not states] == []
    # What the layer raises is caught where it is raised, not merely somewhere.
    assert reached["FaceTooBlurry"] == ["CropFace"]
    assert "ClaimVisit" in reached["ConsentMissing"]
    assert set(reached["EyesCovered"]) == {"CropFace", "SwapFace", "RestoreFace"}


def test_the_reachability_check_sees_a_catch_that_went_missing():
    states = json.loads(json.dumps(task_states()))
    for c in states["CropFace"]["Catch"]:
        c["ErrorEquals"] = [e for e in c["ErrorEquals"] if e != "FaceTooBlurry"]
    assert [reason for reason, found in reached_by(states).items() if not found] == ["FaceTooBlurry"]


# ---------------------------------------------------------------- sentences


def _sentences() -> set[str]:
    return {cls.default_message for cls in REJECTION_REASONS.values()}


def test_the_engine_keeps_no_sentence_for_visitors():
    assert not hasattr(engine_errors, "MESSAGES")
    for path in ENGINE.glob("*.py"):
        text = path.read_text()
        for sentence in _sentences():
            assert sentence not in text, f"{path.name} repeats the layer's sentence {sentence!r}"
    assert not re.search(r"Please|We couldn't", (ENGINE / "errors.py").read_text() + (ENGINE / "checks.py").read_text())


def test_the_web_pages_keep_no_table_of_reasons():
    for path in (ROOT / "web" / "js").glob("*.js"):
        text = path.read_text()
        for reason in REJECTION_REASONS:
            assert reason not in text, f"{path.name} words {reason} itself instead of showing the API's message"
        for sentence in _sentences():
            assert sentence not in text, f"{path.name} repeats the layer's sentence {sentence!r}"


@pytest.fixture
def s3(aws_session):
    client = aws_session.client("s3")
    client.create_bucket(Bucket="photos")
    return client


def _failure(s3, body: dict) -> tuple[str, str]:
    key = "inference/errors/swap/" + "a" * 32 + "-1.out"
    s3.put_object(Bucket="photos", Key=key, Body=json.dumps(body).encode())
    return inference.failure_of(
        s3,
        {
            "failureReason": "ClientError: Received client error (422) from primary with message ...",
            "responseParameters": {"failureLocation": f"s3://photos/{key}"},
        },
    )


@pytest.mark.parametrize("reason", engine_errors.REASONS)
def test_an_engine_refusal_reaches_the_visitor_in_the_layers_words(s3, reason: str):
    assert _failure(s3, {"error": reason}) == (reason, REJECTION_REASONS[reason].default_message)


def test_a_refused_portrait_fails_the_visit_and_tells_operators_why(s3):
    error, cause = _failure(s3, {"error": "PortraitRefused", "reason": "FaceNotFrontal", "message": "FaceNotFrontal"})
    assert error == "InferenceFailed"
    assert "FaceNotFrontal" in cause


# ---------------------------------------------------------------- the engine's answers


def _invoke(visitor: np.ndarray, target: np.ndarray) -> tuple[int, dict]:
    import base64
    import io

    from PIL import Image

    def b64(rgb: np.ndarray) -> str:
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, "PNG")
        return base64.b64encode(buf.getvalue()).decode()

    body = json.dumps({"task": "swap", "face": b64(visitor), "portrait": b64(target), "theme": "painting"})
    status, _headers, data = server.handle(body.encode())
    return status, json.loads(data)


def test_the_engine_answers_a_name_for_the_visitor_and_portrait_refused_for_the_portrait():
    blank = np.full((400, 300, 3), 200, np.uint8)
    assert _invoke(blank, bundled_portrait("mona-lisa.jpg")) == (422, {"error": "NoFaceDetected"})
    status, body = _invoke(bundled_photo("visitor-a.jpg", 640), blank)
    assert status == 422
    assert body["error"] == "PortraitRefused" and body["reason"] == "NoFaceDetected"


def test_refused_takes_only_known_names():
    with pytest.raises(ValueError):
        engine_errors.Refused("FaceTooPale")
    with pytest.raises(ValueError):
        engine_errors.Refused("NoFaceDetected", "bystander")
    assert engine_errors.Refused("FaceTooSmall").subject == engine_errors.VISITOR
