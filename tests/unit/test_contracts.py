"""Every sample in events/ matches the contract it claims (gallery.contracts), with no key more
or less; every sample has one; every Task state of both state machines is in contracts.STATES,
and each Lambda state's contracts are the types its handler is annotated with.

AWS's envelopes are read with Powertools' data classes, as the handlers read them; our payloads
inside them are validated with pydantic against the TypedDicts (extra keys forbidden)."""

from __future__ import annotations

import copy
import inspect
import json
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent, EventBridgeEvent, SNSEvent
from pydantic import TypeAdapter, ValidationError
from typing_extensions import is_typeddict

from gallery import contracts
from tests.unit._functions import function_module

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
MACHINES = {name: ROOT / "statemachine" / f"{name}.asl.json" for name in ("pipeline", "catalog")}


def _itself(event: dict) -> list[Any]:
    return [event]


def _sns_messages(event: dict) -> list[Any]:
    return [json.loads(record.sns.message) for record in SNSEvent(event).records]


def _body(event: dict) -> list[Any]:
    api = APIGatewayProxyEvent(event)
    return [api.json_body] if api.body else []


def _detail(event: dict) -> list[Any]:
    return [EventBridgeEvent(event).detail]


@dataclass(frozen=True)
class Sample:
    """What a sample event claims to be: `contract` for each payload `payloads` finds in it
    (None: it has none, a GET's empty body), and for AWS's envelopes what they must say."""

    contract: Any
    payloads: Callable[[dict], list[Any]] = _itself
    route: tuple[str, str] | None = None  # an API Gateway event's (method, resource)
    source: tuple[str, str] | None = None  # an EventBridge event's (source, detail-type)


SAMPLES: dict[str, Sample] = {
    # The pipeline's execution input, and each state's payload (statemachine/pipeline.asl.json).
    "s3_object_created.json": Sample(contracts.S3ObjectCreatedDetail, _detail, source=("aws.s3", "Object Created")),
    "claim_visit.json": Sample(contracts.ClaimVisitInput),
    "crop_face.json": Sample(contracts.CropFaceInput),
    "choose_portrait.json": Sample(contracts.ChoosePortraitInput),
    "invoke_endpoint.json": Sample(contracts.InvokeEndpointInput),
    "invoke_endpoint_restore.json": Sample(contracts.InvokeEndpointInput),
    "inference_callback_success.json": Sample(contracts.AsyncInferenceNotification, _sns_messages),
    "inference_callback_error.json": Sample(contracts.AsyncInferenceNotification, _sns_messages),
    "publish_display_done.json": Sample(contracts.DoneOutcome),
    "notify_slack.json": Sample(contracts.DoneOutcome),
    "record_outcome_rejected.json": Sample(contracts.RecordOutcomeInput),
    "record_outcome_failed.json": Sample(contracts.RecordOutcomeInput),
    "publish_display_rejected.json": Sample(contracts.EndedNotice),
    "notify_slack_failed.json": Sample(contracts.EndedNotice),
    # The catalog workflow (statemachine/catalog.asl.json).
    "catalog_generation_started.json": Sample(contracts.CatalogGenerationInput),
    "catalog_check_models.json": Sample(contracts.CheckModelsInput),
    "catalog_generate.json": Sample(contracts.GenerateInput),
    "catalog_auto_review.json": Sample(contracts.AutoReviewInput),
    # EventBridge and SNS events of the other functions.
    "execution_ended.json": Sample(
        contracts.ExecutionStatusChangeDetail, _detail, source=("aws.states", "Step Functions Execution Status Change")
    ),
    "sweep_stuck_visits.json": Sample(
        contracts.ScheduledEventDetail, _detail, source=("aws.events", "Scheduled Event")
    ),
    "alarm_to_slack.json": Sample(contracts.AlarmNotification, _sns_messages),
    # The API: request bodies (None: the route takes none).
    "create_visit.json": Sample(contracts.CreateVisitRequest, _body, route=("POST", "/visits")),
    "get_visit.json": Sample(None, _body, route=("GET", "/visits/{visitId}")),
    "delete_visit.json": Sample(None, _body, route=("DELETE", "/visits/{visitId}")),
    "list_displays.json": Sample(None, _body, route=("GET", "/displays")),
    "admin_list_visits.json": Sample(None, _body, route=("GET", "/visits")),
    "admin_refresh_display.json": Sample(None, _body, route=("POST", "/displays/{displayId}/refresh")),
    "catalog_admin_list.json": Sample(None, _body, route=("GET", "/admin/catalog")),
    "catalog_admin_decide.json": Sample(
        contracts.CatalogDecisionRequest, _body, route=("POST", "/admin/catalog/decisions")
    ),
}


def load(name: str) -> dict:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def validate(contract: Any, value: Any) -> None:
    TypeAdapter(contract).validate_python(value, strict=True)


def test_every_sample_event_has_a_contract():
    on_disk = {p.name for p in EVENTS.glob("*.json")}
    assert on_disk - SAMPLES.keys() == set(), "a sample in events/ without a contract: add it to SAMPLES"
    assert SAMPLES.keys() - on_disk == set(), "SAMPLES names a sample that events/ no longer has"


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_sample_event_matches_its_contract(name):
    sample, event = SAMPLES[name], load(name)
    payloads = sample.payloads(event)
    if sample.contract is None:
        assert payloads == [], f"{name}: this route takes no body"
    else:
        assert payloads, f"{name} holds no payload"
        for payload in payloads:
            validate(sample.contract, payload)
    if sample.route:
        api = APIGatewayProxyEvent(event)
        assert (api.http_method, api.resource) == sample.route
        assert api.request_context.stage
    if sample.source:
        bus = EventBridgeEvent(event)
        assert (bus.source, bus.detail_type) == sample.source
        assert bus.time and bus.account and bus.region


def _drifted(payload: dict) -> list[tuple[str, dict]]:
    """The payload with a key it should not have, and with each of its required keys missing."""
    out = [("an extra key", {**payload, "unexpectedKey": 1})]
    out += [(f"no {k}", {key: v for key, v in payload.items() if key != k}) for k in payload]
    return out


@pytest.mark.parametrize("name", sorted(n for n, s in SAMPLES.items() if s.contract is not None))
def test_a_drifted_sample_fails_its_contract(name):
    sample = SAMPLES[name]
    payload = sample.payloads(load(name))[0]
    required = getattr(sample.contract, "__required_keys__", frozenset())
    for what, drifted in _drifted(payload):
        if what.startswith("no ") and what[3:] not in required:
            continue  # an optional key may be missing
        with pytest.raises(ValidationError):
            validate(sample.contract, drifted)
    # One level down too, wherever the contract has a TypedDict (not a free-form map like inputs).
    hints = typing.get_type_hints(sample.contract)
    for key, value in payload.items():
        if isinstance(value, dict) and any(is_typeddict(m) for m in _members(hints[key])):
            drifted = copy.deepcopy(payload)
            drifted[key]["unexpectedKey"] = 1
            with pytest.raises(ValidationError):
                validate(sample.contract, drifted)


def task_states(definition: dict) -> dict[str, dict]:
    """Every Task state of a state machine, in Parallel branches and Map processors too."""
    found = {}
    for name, state in definition["States"].items():
        if state["Type"] == "Task":
            found[name] = state
        for branch in state.get("Branches", []):
            found.update(task_states(branch))
        if "ItemProcessor" in state:
            found.update(task_states(state["ItemProcessor"]))
    return found


def _function_dir(arn_placeholder: str) -> str:
    """${ClaimVisitFunctionArn} -> claim_visit (template.yaml's CodeUri functions/claim_visit)."""
    name = re.fullmatch(r"\$\{(\w+)FunctionArn\}", arn_placeholder)[1]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@pytest.mark.parametrize("machine", sorted(MACHINES))
def test_every_task_state_has_its_contract(machine):
    tasks = task_states(json.loads(MACHINES[machine].read_text(encoding="utf-8")))
    assert tasks.keys() == contracts.STATES[machine].keys()
    for name, state in tasks.items():
        contract = contracts.STATES[machine][name]
        if not state["Resource"].startswith("arn:aws:states:::lambda:invoke"):
            assert contract is None, f"{name} calls no function: its contract is None"
            continue
        assert contract is not None, f"{name} invokes a function: contracts.STATES needs its payload and result"
        assert contract["function"] == _function_dir(state["Parameters"]["FunctionName"])


def _members(annotation: Any) -> tuple[Any, ...]:
    """The members of a union, or the one type."""
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    return typing.get_args(annotation) if union else (annotation,)


@pytest.mark.parametrize(
    ("machine", "state"),
    [(m, s) for m, states in sorted(contracts.STATES.items()) for s, c in sorted(states.items()) if c is not None],
)
def test_each_lambda_state_contract_is_its_handler_annotation(machine, state):
    """The handler is typed (and mypy-checked) with the state's contracts, so the code and the
    state machine agree on one shape."""
    contract = contracts.STATES[machine][state]
    handler = inspect.unwrap(function_module(contract["function"]).handler)
    hints = typing.get_type_hints(handler)
    event = next(iter(inspect.signature(handler).parameters))
    assert contract["input"] in _members(hints[event])
    if state in ("SwapFace", "RestoreFace"):
        # waitForTaskToken: the state's result is what inference_callback sends with
        # SendTaskSuccess (checked end to end), not the function's return.
        assert hints["return"] is contracts.InferenceStarted
    else:
        assert set(_members(contract["output"])) <= set(_members(hints["return"]))
