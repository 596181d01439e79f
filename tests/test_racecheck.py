"""The race checker: it names a racy peer's state, and stays quiet on ours."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import raft.raft as raft_module
from labtools import racecheck
from raft.config import make_config
from raft.testing import T, TestFailure

REPO = Path(__file__).resolve().parent.parent


class Raft(raft_module.Raft):  # named Raft: labrpc calls it "Raft"
    """The solution's peer, plus a thread that reads currentTerm unlocked."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        threading.Thread(target=self.peek, name="racy-reader", daemon=True).start()

    def peek(self) -> None:
        while not self.killed():
            self.currentTerm  # the race: no self.mu
            time.sleep(0.005)


def test_a_racy_read_is_reported_with_both_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(racecheck.ENV_VAR, "1")
    monkeypatch.setattr(raft_module, "Raft", Raft)
    with pytest.raises(TestFailure) as caught:
        with make_config(T(echo=False), 3, False) as cfg:
            cfg.checkOneLeader()
            cfg.checkOneLeader()
    report = str(caught.value)
    assert "race on Raft[" in report and ".currentTerm" in report
    assert "read by thread racy-reader WITHOUT the lock" in report
    assert "write by thread raft-S" in report and "holding the lock" in report
    assert "in peek" in report


def test_the_solution_runs_the_election_tests_with_no_report() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "2A", "--race"],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "3 passed" in result.stdout and "race on" not in result.stdout


def test_owned_lock_knows_its_holder_and_works_with_a_condition() -> None:
    lock = racecheck.OwnedLock()
    cond = threading.Condition(lock)
    assert not lock.held_by_me()
    with lock:
        assert lock.held_by_me() and lock.locked()
        seen = []
        other = threading.Thread(target=lambda: seen.append(lock.held_by_me()))
        other.start()
        other.join()
        assert seen == [False]
    woken = []

    def waiter() -> None:
        with cond:
            cond.wait_for(lambda: woken, timeout=2)
            woken.append(lock.held_by_me())

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.05)
    with cond:
        woken.append("go")
        cond.notify_all()
    th.join()
    assert woken == ["go", True]
