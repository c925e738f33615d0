"""Event hours: the schedule parameters become scheduled actions on both endpoints' scalable
targets (a warm minimum while open, 0 after, in the event's time zone), and the parameters'
patterns refuse what an operator could mistype."""

from __future__ import annotations

import re

import pytest

from gallery_local import template as tpl
from tests.conftest import load_template

TARGETS = ("SwapScalableTarget", "RestoreScalableTarget")


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template()


def actions(template: dict, logical: str, **parameters: str) -> dict[str, dict]:
    """The target's scheduled actions as CloudFormation resolves them for these parameters."""
    params = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
    params.update(parameters)
    resolver = tpl.Resolver(template, tpl.LocalNames("s", template["Resources"]), params)
    props = template["Resources"][logical]["Properties"]
    return {a["ScheduledActionName"]: a for a in resolver.value(props["ScheduledActions"])}


@pytest.mark.parametrize("logical", TARGETS)
def test_the_event_hours_become_a_warm_minimum_and_zero_after(template: dict, logical: str) -> None:
    got = actions(
        template,
        logical,
        EventTimeZone="Asia/Seoul",
        EventDays="SAT,SUN",
        EventOpensAt="09:30",
        EventClosesAt="18:05",
        EventWarmInstances="2",
        InferenceMaxInstances="3",
    )
    assert set(got) == {"event-opens", "event-closes"}
    opens, closes = got["event-opens"], got["event-closes"]
    assert opens["Schedule"] == "cron(30 09 ? * SAT,SUN *)"
    assert closes["Schedule"] == "cron(05 18 ? * SAT,SUN *)"
    assert opens["Timezone"] == closes["Timezone"] == "Asia/Seoul"
    assert int(opens["ScalableTargetAction"]["MinCapacity"]) == 2
    assert int(closes["ScalableTargetAction"]["MinCapacity"]) == 0
    # Neither action lowers the ceiling the backlog policies scale up to.
    assert {int(a["ScalableTargetAction"]["MaxCapacity"]) for a in got.values()} == {3}
    # Outside the event hours the target itself still lets the endpoint rest at zero.
    assert template["Resources"][logical]["Properties"]["MinCapacity"] == 0


def test_the_defaults_keep_one_instance_every_day(template: dict) -> None:
    got = actions(template, "SwapScalableTarget")
    assert got["event-opens"]["Schedule"] == "cron(30 09 ? * * *)"
    assert int(got["event-opens"]["ScalableTargetAction"]["MinCapacity"]) == 1


def _pattern(template: dict, name: str) -> re.Pattern:
    return re.compile(template["Parameters"][name]["AllowedPattern"])


@pytest.mark.parametrize(
    "name,good,bad",
    [
        (
            "EventTimeZone",
            ["Asia/Seoul", "Europe/Berlin", "UTC", "America/Argentina/Buenos_Aires"],
            ["KST", "seoul", "Asia Seoul", "+09:00"],
        ),
        ("EventDays", ["*", "SAT,SUN", "MON-FRI", "FRI,SAT,SUN"], ["sat", "SAT, SUN", "Saturday", "1-5", ""]),
        ("EventOpensAt", ["09:30", "00:00", "23:59"], ["9:30", "24:00", "09:60", "0930", "9am"]),
        ("EventClosesAt", ["18:30"], ["18.30", "6:30pm"]),
    ],
)
def test_the_schedule_parameters_refuse_mistakes(template: dict, name: str, good: list, bad: list) -> None:
    pattern = _pattern(template, name)
    assert all(pattern.fullmatch(v) for v in good), name
    assert not any(pattern.fullmatch(v) for v in bad), name


def test_the_local_stack_creates_no_condition(template: dict) -> None:
    for logical in TARGETS:
        assert "Fn::If" not in repr(template["Resources"][logical])
