"""The state machine's own limits: its overall TimeoutSeconds outlasts the longest path a
legitimate visit can take, retries included, and every state that can fail the visit's
record has a way to a final state.

The callback tasks wait InferenceTimeoutSeconds per attempt, sized from the endpoints' cold
start (default 600 s, maximum 900 s; README "Event hours and warm-up"). At the maximum the
longest path is about 6,534 s (two inference tasks of about 2,900 s each: 3 waits of 900 s
plus 6 fast failures and backoffs; the rest about 730 s), so TimeoutSeconds is 7,200 s (2 h):
above it, below twice it, and 1.5 times above the 4,734 s path at the default."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import load_template

ROOT = Path(__file__).resolve().parents[2]
ASL = json.loads(re.sub(r"\$\{\w+\}", "x", (ROOT / "statemachine" / "pipeline.asl.json").read_text()))
LAMBDA_TIMEOUT = 30  # template.yaml Globals: Function Timeout, the bound of one invoke
# Errors after which a .waitForTaskToken attempt may have waited its whole TimeoutSeconds;
# any other error (Lambda, SageMaker throttling) ends the attempt while invoke_endpoint runs.
WAITING_ERRORS = {"States.Timeout", "InferenceFailed", "States.ALL", "States.TaskFailed"}


def _template_parameters() -> dict:
    return load_template()["Parameters"]


def state_seconds(state: dict, inference_timeout: int) -> float:
    """An upper bound of the time one state may take, every retry and backoff included."""
    if state["Type"] == "Parallel":
        return max(longest(branch, branch["StartAt"], inference_timeout) for branch in state["Branches"])
    if state["Type"] != "Task":
        return 0
    waits = state["Resource"].endswith(".waitForTaskToken")
    attempt = inference_timeout if "TimeoutSecondsPath" in state else state["TimeoutSeconds"]
    total = attempt  # the first attempt
    for retrier in state.get("Retry", []):
        n = retrier["MaxAttempts"]
        each = attempt if not waits or WAITING_ERRORS & set(retrier["ErrorEquals"]) else LAMBDA_TIMEOUT
        total += n * each
        # Full jitter only shortens a delay; MaxDelaySeconds is not used here.
        total += sum(retrier["IntervalSeconds"] * retrier.get("BackoffRate", 2.0) ** i for i in range(n))
    return total


def successors(state: dict) -> list[str]:
    nxt = [state["Next"]] if "Next" in state else []
    nxt += [c["Next"] for c in state.get("Catch", [])]
    nxt += [c["Next"] for c in state.get("Choices", [])]
    nxt += [state["Default"]] if "Default" in state else []
    return nxt


def longest(machine: dict, name: str, inference_timeout: int, seen: tuple = ()) -> float:
    assert name not in seen, f"the pipeline loops at {name}"
    state = machine["States"][name]
    rest = [longest(machine, n, inference_timeout, (*seen, name)) for n in successors(state)]
    return state_seconds(state, inference_timeout) + max(rest, default=0)


def test_the_execution_timeout_outlasts_the_longest_legitimate_path():
    params = _template_parameters()["InferenceTimeoutSeconds"]
    worst = longest(ASL, ASL["StartAt"], int(params["MaxValue"]))
    assert ASL["TimeoutSeconds"] > worst, (ASL["TimeoutSeconds"], worst)
    # ...and it is not so long that a stuck visit waits for hours: within twice the bound.
    assert ASL["TimeoutSeconds"] < 2 * worst
    # With the default inference timeout there is a wide margin.
    assert longest(ASL, ASL["StartAt"], int(params["Default"])) < ASL["TimeoutSeconds"] / 1.5


def test_recording_an_outcome_always_reaches_a_final_state():
    states = ASL["States"]
    for name in ("MarkRejected", "MarkFailed"):
        assert states[name]["Retry"][-1]["ErrorEquals"] == ["States.ALL"]
        (catch,) = states[name]["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"] and catch["Next"] == "RecordFailedFallback"
    fallback = states["RecordFailedFallback"]
    assert fallback["Resource"] == "arn:aws:states:::dynamodb:updateItem"
    assert fallback["Next"] == "Failed" and {c["Next"] for c in fallback["Catch"]} == {"Failed"}
    assert states["Failed"]["Type"] == "Fail"


def test_no_state_selects_gender_or_age():
    text = json.dumps(ASL)
    for word in ("gender", "ageRange", "AgeRange", "Gender", "ageBand"):
        assert word not in text
