"""`gallery loadtest`'s pure parts: the arrival process, the kiosk queues, the statistics and the
lost-visit accounting. No stack."""

from __future__ import annotations

import json
import statistics
import threading

import pytest

from gallery_local import loadtest as lt


# ---------------------------------------------------------------------------- the expected load
def test_profile_is_the_event_and_its_busiest_hour():
    p = lt.load_profile()
    assert p.visitors == 1848 and p.days == 2 and p.hours_per_day == 8
    assert p.mean_per_hour == pytest.approx(115.5)
    assert p.peak_per_hour == pytest.approx(115.5 * p.peak_factor)
    assert 1.2 <= p.peak_factor <= 3
    assert p.rate_per_second(3) == pytest.approx(3 * p.peak_per_hour / 3600)
    assert sum(p.themes.values()) == pytest.approx(1) and sum(p.languages.values()) == pytest.approx(1)
    raw = json.loads(lt.PROFILE.read_text())
    for k in ("visitorsReasoning", "peakReasoning", "dwellReasoning"):
        assert len(raw[k]) > 100, k


# ---------------------------------------------------------------------------- arrivals
def test_poisson_arrivals_count_and_mean_gap_within_tolerance():
    """rate 2/s for 2,000 s: about 4,000 arrivals. A Poisson count has standard deviation
    sqrt(4000) = 63, so +-5% (200, more than 3 sd) holds for any seed but a freak one; the mean
    gap is 0.5 s, its standard error 0.5/sqrt(4000) = 0.008 s, so +-5% (0.025 s) likewise."""
    times = lt.poisson_arrivals(2.0, 2000, 100_000, seed=7)
    assert abs(len(times) - 4000) <= 200
    gaps = [b - a for a, b in zip([0.0, *times], times, strict=False)]
    assert statistics.mean(gaps) == pytest.approx(0.5, rel=0.05)
    # Exponential gaps: the standard deviation equals the mean (within 10%).
    assert statistics.pstdev(gaps) == pytest.approx(0.5, rel=0.10)
    assert times == sorted(times) and all(0 <= t < 2000 for t in times)


def test_poisson_arrivals_are_deterministic_per_seed_and_bounded():
    assert lt.poisson_arrivals(1.0, 300, 1000, seed=3) == lt.poisson_arrivals(1.0, 300, 1000, seed=3)
    assert lt.poisson_arrivals(1.0, 300, 1000, seed=3) != lt.poisson_arrivals(1.0, 300, 1000, seed=4)
    assert len(lt.poisson_arrivals(10.0, 300, 25, seed=1)) == 25  # the maximum count wins
    assert lt.poisson_arrivals(0, 300, 10, seed=1) == []
    assert lt.poisson_arrivals(1.0, 0, 10, seed=1) == []


def test_visitors_mix_photos_themes_and_languages_deterministically():
    p = lt.load_profile()
    times = lt.poisson_arrivals(1.0, 400, 400, seed=2)
    a = lt.visitors(times, p, ["a.jpg", "b.jpg"], seed=2)
    assert a == lt.visitors(times, p, ["a.jpg", "b.jpg"], seed=2)
    assert {v.theme for v in a} == set(p.themes)
    assert {v.language for v in a} == set(p.languages)
    assert {v.photo for v in a} == {"a.jpg", "b.jpg"}
    for v in a:
        assert p.dwell_before * 0.75 <= v.dwell_before <= p.dwell_before * 1.25
    assert all(v.dwell_before == 0 and v.dwell_after == 0 for v in lt.visitors(times, p, ["a.jpg"], 2, 0.0))


# ---------------------------------------------------------------------------- kiosk queues
def test_a_visitor_joins_the_shortest_line():
    q = lt.KioskQueues(3)
    assert [q.arrive(n) for n in range(3)] == [0, 1, 2]  # ties: the lowest kiosk
    assert q.take(1, timeout=0) == 1  # kiosk 1 serves visitor 1: its line is now 1 long (serving)
    q.done(1)  # ... and is free again
    assert q.arrive(3) == 1
    assert q.arrive(4) == 0  # all lines 1 long again: the lowest
    assert [q.length(k) for k in range(3)] == [2, 1, 1]
    assert q.waiting() == 4  # visitor 1 was served and left


def test_each_kiosk_serves_its_line_in_order_one_at_a_time():
    q = lt.KioskQueues(1)
    for n in range(3):
        q.arrive(n)
    assert q.take(0, timeout=0) == 0
    assert q.length(0) == 3  # one served, two waiting
    q.done(0)
    assert q.take(0, timeout=0) == 1
    q.done(0)
    assert q.take(0, timeout=0) == 2
    q.done(0)
    assert q.take(0, timeout=0) is None  # nobody, not closed: the timeout


def test_closing_sends_the_waiting_home_and_wakes_the_kiosks():
    q = lt.KioskQueues(2)
    got: list = []
    t = threading.Thread(target=lambda: got.append(q.take(1)))
    t.start()
    for n in range(3):
        q.arrive(n)  # 0 -> kiosk 0, 1 -> kiosk 1 (taken by the thread), 2 -> kiosk 0
    t.join(2)
    assert got == [1]
    assert q.close(drop_waiting=True) == [0, 2]
    assert q.take(0) is None and q.take(1) is None


# ---------------------------------------------------------------------------- statistics
def test_percentiles_of_known_lists():
    one_to_100 = list(range(1, 101))
    assert lt.percentile(one_to_100, 50) == pytest.approx(50.5)
    assert lt.percentile(one_to_100, 95) == pytest.approx(95.05)
    assert lt.percentile(one_to_100, 99) == pytest.approx(99.01)
    assert lt.percentile([3, 1, 2], 50) == 2  # unsorted input
    assert lt.percentile([5.0], 99) == 5.0
    assert lt.percentile([], 50) is None
    assert lt.percentile([0, 10], 0) == 0 and lt.percentile([0, 10], 100) == 10
    assert lt.summary([1, 2, 3, 4]) == {"n": 4, "p50": 2.5, "p95": pytest.approx(3.85), "p99": pytest.approx(3.97)}


def test_per_minute_and_backlog():
    assert lt.per_minute([0, 59.9, 60, 125, 500], 3) == [2, 1, 1]
    b = dict(lt.backlog([(0, 2), (1, 3), (2.5, None)], end=4, step=1))
    assert b == {0.0: 1, 1.0: 2, 2.0: 1, 3.0: 1, 4.0: 1}


# ---------------------------------------------------------------------------- lost visits
def _exited(name: str, output: dict | None = None) -> dict:
    return {"stateExitedEventDetails": {"name": name, "output": json.dumps(output or {})}}


def test_final_states_from_an_execution_history():
    done = [{"stateEnteredEventDetails": {"name": "CropFace"}}, _exited("CropFace"), _exited("SaveResult")]
    assert lt.finals_from_history(done) == ["DONE"]
    rejected = [_exited("MarkRejected", {"Payload": {"recorded": True, "status": "REJECTED"}})]
    assert lt.finals_from_history(rejected) == ["REJECTED"]
    # MarkFailed that found the visit already final recorded nothing: not a final state.
    assert lt.finals_from_history([_exited("MarkFailed", {"Payload": {"recorded": False}})]) == []
    assert lt.finals_from_history([_exited("RecordFailedFallback")]) == ["FAILED"]
    assert lt.finals_from_history([_exited("AlreadyProcessed")]) == []


def test_final_transitions_combine_histories_tablet_and_item():
    assert lt.final_transitions(["DONE"], "DONE", "DONE") == ["DONE"]
    # Marked FAILED by the execution-ended handler or a sweeper: no execution wrote it.
    assert lt.final_transitions([], "FAILED", "FAILED") == ["FAILED"]
    assert lt.final_transitions([], "TIMED_OUT", "PROCESSING") == []
    assert lt.final_transitions([], "TIMED_OUT", "DONE") == ["DONE"]  # slow, not lost
    assert lt.final_transitions(["DONE"], "DONE", "FAILED") == ["DONE", "FAILED"]
    assert lt.final_transitions(["DONE", "DONE"], "DONE", "DONE") == ["DONE", "DONE"]  # two executions


def test_lost_counts_no_final_state_and_more_than_one():
    visits = [
        {"visitId": "ok", "accepted": True, "finals": ["DONE"]},
        {"visitId": "rejected", "accepted": True, "finals": ["REJECTED"]},
        {"visitId": "none", "accepted": True, "finals": []},
        {"visitId": "twice", "accepted": True, "finals": ["DONE", "FAILED"]},
        {"visitId": "never-uploaded", "accepted": False, "finals": []},  # not an accepted upload
    ]
    got = lt.lost_accounting(visits)
    assert got == {"lost": 2, "noFinalState": ["none"], "moreThanOne": ["twice"]}
    assert lt.lost_accounting(visits[:2])["lost"] == 0


def test_the_report_has_a_lost_line():
    s = {"n": 0, "p50": None, "p95": None, "p99": None}
    rep = {
        "tablets": 8,
        "multiplier": 3,
        "ratePerMinute": 9.2,
        "minutes": 2,
        "seed": 1,
        "durationSeconds": 130,
        "arrived": 0,
        "served": 0,
        "leftInLine": 0,
        "accepted": 0,
        "notAccepted": 0,
        "finalStates": {},
        "throughputPerMinute": 0,
        "finishedPerMinute": [0, 0, 0],
        "e2e": s,
        "e2eDone": s,
        "seenByTablet": s,
        "stages": dict.fromkeys(("upload", *lt.STAGES, "kioskWait"), s),
        "errors": [],
        "tabletTimedOut": 0,
        "lostNoFinalState": [],
        "lostMoreThanOne": [],
        "multipleExecutions": 0,
        "lost": 0,
    }
    assert "lost: 0" in lt.text_report(rep).splitlines()
