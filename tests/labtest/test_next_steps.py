"""labtest.next_steps: the commands a failure ends with, chosen by what happened."""

from __future__ import annotations

from pathlib import Path
from typing import List, Sequence

import pytest

from labtest.next_steps import kind_of, steps

NODE = "src/raft/test_raft.py::TestReElection2A"


def report(longrepr: str, properties: Sequence[tuple] = ()) -> pytest.TestReport:
    return pytest.TestReport(NODE, ("src/raft/test_raft.py", 40, "TestReElection2A"), {},
                             "failed", longrepr, "call", user_properties=properties)


def commands(longrepr: str, properties: Sequence[tuple] = (),
             pages: Sequence[Path] = ()) -> List[str]:
    lines = steps(report(longrepr, properties), list(pages))
    return [line.split(":", 1)[1].strip() for line in lines]


@pytest.fixture(autouse=True)
def race_checker_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAFT_RACE", raising=False)


def test_a_tester_verdict_in_real_time_hunts_a_seed() -> None:
    assert kind_of(report("expected one leader, got none")) == "verdict"
    assert commands("expected one leader, got none") == [
        "raft-stress --sim -k TestReElection2A",
        "RAFT_DEBUG=1 pytest -k TestReElection2A 2>&1 | raft-logview",
        "pytest -k TestReElection2A --timeline=pages"]


@pytest.mark.parametrize("cause", [
    "Timeout (>120.0s) from pytest-timeout.",
    "applyCh deadlock: S1 waits in put while holding mu",
    "test took longer than 120 seconds",
    "deadlock: every thread waits and no timer is pending"])
def test_a_hang_or_a_deadlock_asks_for_the_race_checker_first(cause: str) -> None:
    assert kind_of(report(cause)) == "hang"
    assert commands(cause)[0] == "pytest -k TestReElection2A --race"


def test_with_the_race_checker_on_it_is_not_asked_for_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAFT_RACE", "1")
    assert not any("--race" in command for command in commands("Timeout (>120.0s)"))


def test_a_simulated_run_is_replayed_and_a_drawn_page_named() -> None:
    replay = "pytest --sim --sim-seed 4 -k TestReElection2A"
    page = Path("/home/me/pages/TestReElection2A.html")
    assert commands("expected one leader, got none", [("sim_replay", replay)], [page]) == [
        replay, f"RAFT_DEBUG=1 {replay} 2>&1 | raft-logview", str(page)]


def test_an_exception_and_threads_left_running_get_no_hunt() -> None:
    raised = "labrpc: handler Raft.RequestVote raised KeyError: 3"
    assert kind_of(report(raised)) == "exception"
    assert not any("raft-stress" in command for command in commands(raised))
    leak = "2 thread(s) still running 1 s after the test ended: a, b; Kill() must stop them"
    assert kind_of(report(leak)) == "leak"
    assert commands(leak) == ["RAFT_DEBUG=1 pytest -k TestReElection2A 2>&1 | raft-logview"]
