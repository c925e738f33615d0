"""The contracts are true, not documentation: one real visit on the local stack, and every Task
state in its execution history (and in the catalog workflow's, which built the stack's catalog)
received and returned exactly what gallery.contracts.STATES says, no key more or less. The API
answers of the visit are checked against their contracts too.

tests/unit/test_contracts.py checks the samples in events/ against the same contracts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from gallery import contracts
from gallery_local.demo import DEMO
from gallery_local.tablet import Tablet, Visit

VISITOR = (DEMO / "photos" / "visitor-a.jpg").read_bytes()


def check(contract: Any, value: Any, where: str) -> None:
    try:
        TypeAdapter(contract).validate_python(value, strict=True)
    except ValidationError as e:
        raise AssertionError(f"{where} does not match {getattr(contract, '__name__', contract)}:\n{e}") from None


def task_payloads(history: list[dict]) -> list[tuple[str, str, Any]]:
    """(state, "input" | "output", value) for every attempt of every Task state: the payload the
    state sent (TaskScheduled's parameters) and what came back (TaskSucceeded's output; for
    lambda:invoke its Payload, for waitForTaskToken the task token's output)."""
    by_id = {e["id"]: e for e in history}

    def state_of(event: dict) -> str:
        while "stateEnteredEventDetails" not in event:
            event = by_id[event["previousEventId"]]
        return event["stateEnteredEventDetails"]["name"]

    found: list[tuple[str, str, Any]] = []
    for e in history:
        if e["type"] == "TaskScheduled":
            params = json.loads(e["taskScheduledEventDetails"]["parameters"])
            found.append((state_of(e), "input", params.get("Payload", params)))
        elif e["type"] == "TaskSucceeded":
            details = e["taskSucceededEventDetails"]
            output = json.loads(details["output"])
            if details["resource"] == "invoke":  # lambda:invoke: the function's answer is its Payload
                output = output["Payload"]
            found.append((state_of(e), "output", output))
    return found


def checked_states(stack, execution_arn: str, machine: str) -> set[str]:
    """Check every Task state of one execution; the states it saw."""
    seen = set()
    for state, kind, value in task_payloads(stack.history(execution_arn)):
        assert state in contracts.STATES[machine], f"{machine} state {state} has no entry in contracts.STATES"
        contract = contracts.STATES[machine][state]
        if contract is None:  # a DynamoDB integration: its parameters are the ASL's own
            continue
        check(contract[kind], value, f"{machine} {state} {kind} ({execution_arn})")
        seen.add(state)
    return seen


def test_a_visit_and_the_catalog_workflow_keep_every_state_contract(stack):
    tablet = Tablet(stack, 6)
    code, created = tablet.start_visit("painting", language="en")
    assert code == 201, created
    check(contracts.CreateVisitResponse, created, "POST /visits")
    assert tablet.upload(created, VISITOR).status_code < 300
    visit = tablet.follow(Visit(created["visitId"], created["displayId"], "painting", created["upload"]["key"]))
    assert visit.status == "DONE", visit.view
    check(contracts.VisitView, visit.view, "GET /visits/{visitId}")
    displays = tablet.http.get(f"{stack.api.url}/displays", timeout=10)
    check(contracts.DisplaysResponse, displays.json(), "GET /displays")

    item = stack.table("VisitsTable").get_item(Key={"visitId": created["visitId"]})["Item"]
    stack.wait_execution(item["executionArn"])
    seen = checked_states(stack, item["executionArn"], "pipeline")
    # Every Lambda state of the happy path was seen (the others are the failure paths').
    assert seen >= {"ClaimVisit", "CropFace", "ChoosePortrait", "SwapFace", "RestoreFace", "PublishDisplay"}
    assert "NotifySlack" in seen

    sfn = stack.client("stepfunctions")
    machines = sfn.list_state_machines()["stateMachines"]
    catalog_machines = [m["stateMachineArn"] for m in machines if "Catalog" in m["name"]]
    catalog_runs = [e for m in catalog_machines for e in sfn.list_executions(stateMachineArn=m)["executions"]]
    assert catalog_runs, "the stack's catalog was built through the catalog workflow"
    seen = set()
    for run in catalog_runs:
        stack.wait_execution(run["executionArn"])
        started = sfn.describe_execution(executionArn=run["executionArn"])
        check(contracts.CatalogGenerationInput, json.loads(started["input"]), "the catalog workflow's input")
        seen |= checked_states(stack, run["executionArn"], "catalog")
    assert seen >= {"CheckModels", "Generate", "Review"}


def test_a_rejected_visit_keeps_the_failure_path_contracts(stack):
    """MarkRejected, and PublishRejected on the outcome it recorded."""
    visit = Tablet(stack, 7).visit(VISITOR[: len(VISITOR) // 3], "painting")  # a corrupt file
    assert visit.status == "REJECTED", visit.view
    check(contracts.VisitView, visit.view, "GET /visits/{visitId}")
    item = stack.table("VisitsTable").get_item(Key={"visitId": visit.visit_id})["Item"]
    stack.wait_execution(item["executionArn"])
    assert checked_states(stack, item["executionArn"], "pipeline") >= {"ClaimVisit", "MarkRejected", "PublishRejected"}


def test_a_drifted_key_fails_the_check():
    """What the checks above rely on: a key the contract does not name, or one it needs that is
    missing, fails."""
    claimed = {"visitId": "0" * 32, "displayId": "6", "theme": "painting", "bucket": "b", "key": "k"}
    check(contracts.ClaimedVisit, claimed, "a claimed visit")
    with pytest.raises(AssertionError, match="ClaimedVisit"):
        check(contracts.ClaimedVisit, {**claimed, "displayID": "6"}, "a renamed key")
    with pytest.raises(AssertionError, match="ClaimedVisit"):
        check(contracts.ClaimedVisit, {k: v for k, v in claimed.items() if k != "theme"}, "a missing key")
