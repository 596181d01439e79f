"""The race checker: it names a racy peer's state, and stays quiet on ours."""

from __future__ import annotations

import copy
import importlib
import pickle
import queue
import subprocess
import sys
import threading
import time
import types
from pathlib import Path
from typing import Callable, List

import pytest

import labgob
import raft.raft as raft_module
import racecheck
from raft.config import make_config
from labtest.testing import T, TestFailure
from tests.bugs import race_bugs, run_race_check

REPO = Path(__file__).resolve().parents[2]


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
    assert "write by thread raft-S" in report and "holding self.mu" in report
    assert "in peek" in report


def test_the_solution_runs_the_election_tests_with_no_report() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "src/raft/test_raft.py",
         "-k", "2A", "--race"],
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


# --- the lockset rule, containers and blocking calls, on a small peer ---------------

SMALL_PEER = '''
import threading
import time


class Raft:
    def __init__(self, peers, me, persister, applyCh):
        self.mu = threading.Lock()
        self.cond = threading.Condition(self.mu)
        self.peers = peers
        self.applyCh = applyCh
        self.term = 0
        self.log = [0]
        self.nextIndex = {}
        self.scratch = 0
        self.inbox = None

    def Deliver(self, args, reply):  # an RPC handler: (args, reply)
        self.inbox = args

    def deliver_twice(self):
        self.Deliver(1, None)
        self.Deliver(2, None)

    def locked(self, fn):
        with self.mu:
            return fn(self)

    def unlocked(self, fn):
        return fn(self)


def Make(peers, me, persister, applyCh):
    return Raft(peers, me, persister, applyCh)
'''


@pytest.fixture
def small_raft(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """A throwaway raft module (a fresh one each test: the checker patches it)."""
    name = f"small_raft_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(SMALL_PEER)
    monkeypatch.syspath_prepend(str(tmp_path))
    return importlib.import_module(name)


class FakeEnd:
    def Call(self, svcMeth: str, args: object, reply: object) -> bool:
        return True


def watched_peer(module: types.ModuleType, reports: List[str],
                 channel: object = None) -> object:
    return racecheck.make_watched(module.Make, [FakeEnd()], 0, None,
                                  channel if channel is not None else queue.Queue(),
                                  report=reports.append)


def on_thread(fn: Callable[[], object]) -> None:
    """Run fn on a thread of its own, to the end (the accesses' order is fixed)."""
    th = threading.Thread(target=fn)
    th.start()
    th.join()


def read_term(rf: object) -> object:
    return rf.term  # type: ignore[attr-defined]


def write_term(rf: object) -> None:
    rf.term += 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("order", ["unlocked read first", "unlocked read last"])
def test_a_race_is_reported_whatever_the_order(small_raft: types.ModuleType,
                                               order: str) -> None:
    reports: List[str] = []
    rf = watched_peer(small_raft, reports)
    steps = [lambda: rf.locked(write_term), lambda: rf.locked(write_term),
             lambda: rf.locked(read_term)]
    bare = lambda: rf.unlocked(read_term)  # noqa: E731
    steps = [bare] + steps if order == "unlocked read first" else steps + [bare]
    for step in steps:
        on_thread(step)
    assert len(reports) == 1, reports
    assert reports[0].startswith("race on Raft[0].term:")
    assert "read by thread" in reports[0] and "WITHOUT the lock" in reports[0]
    assert "write by thread" in reports[0] and "holding self.mu" in reports[0]
    assert "in read_term" in reports[0] and "in write_term" in reports[0]


def test_locked_shared_state_read_only_state_and_one_threads_state_are_quiet(
        small_raft: types.ModuleType) -> None:
    reports: List[str] = []
    rf = watched_peer(small_raft, reports)
    for _ in range(3):
        on_thread(lambda: rf.locked(write_term))
        on_thread(lambda: rf.unlocked(lambda r: len(r.peers)))  # written only in Make
        on_thread(lambda: rf.locked(lambda r: r.log.append(1)))

    def only_mine() -> None:  # written in Make, then used by one thread alone
        for _ in range(3):
            rf.scratch += 1

    on_thread(only_mine)
    assert reports == []


def test_container_writes_and_reads_count_as_the_attributes(
        small_raft: types.ModuleType) -> None:
    reports: List[str] = []
    rf = watched_peer(small_raft, reports)
    on_thread(lambda: rf.locked(lambda r: r.log[-1]))
    on_thread(lambda: rf.unlocked(lambda r: r.log.append(5)))
    on_thread(lambda: rf.locked(lambda r: r.nextIndex.get(1)))
    on_thread(lambda: rf.unlocked(lambda r: r.nextIndex.__setitem__(1, 2)))
    assert [report.splitlines()[0].split(":")[0] for report in reports] == [
        "race on Raft[0].log", "race on Raft[0].nextIndex"]
    assert "write by thread" in reports[0] and "in <lambda>" in reports[0]


def test_each_handler_call_from_outside_is_a_thread_of_its_own(
        small_raft: types.ModuleType) -> None:
    reports: List[str] = []
    rf = watched_peer(small_raft, reports)
    on_thread(rf.deliver_twice)  # the peer calling its own method: one thread
    assert reports == []
    rf = watched_peer(small_raft, reports)

    def two_rpcs() -> None:  # as labrpc's reused worker thread calls handlers
        rf.Deliver(3, None)
        rf.Deliver(4, None)

    on_thread(two_rpcs)
    assert len(reports) == 1 and reports[0].startswith("race on Raft[0].inbox:"), reports
    assert "(Deliver call #" in reports[0]


def test_watched_containers_stay_plain_to_their_users(small_raft: types.ModuleType) -> None:
    rf = watched_peer(small_raft, [])
    with rf.mu:
        rf.log.extend([1, 2])
        rf.nextIndex[3] = 4
        log, next_index = rf.log, rf.nextIndex
        assert type(log).__name__ == "WatchedList" and isinstance(log, list)
        assert log == [0, 1, 2] and log[1:] == [1, 2] and type(log[1:]) is list
        assert next_index == {3: 4} and isinstance(next_index, dict)
        for value, plain in ((log, [0, 1, 2]), (next_index, {3: 4})):
            for copied in (labgob.loads(labgob.dumps(value)), pickle.loads(pickle.dumps(value)),
                           copy.copy(value), copy.deepcopy(value)):
                assert type(copied) is type(plain) and copied == plain
        state = labgob.loads(labgob.dumps([rf.term, rf.log]))
        assert state == [0, [0, 1, 2]] and type(state[1]) is list
        rf.log += [3]
        assert rf.log is log and log == [0, 1, 2, 3]


@pytest.mark.parametrize("call", ["sleep", "Call", "put"])
def test_a_blocking_call_made_holding_the_lock_is_reported(
        small_raft: types.ModuleType, call: str) -> None:
    reports: List[str] = []
    rendezvous = queue.Queue(maxsize=1)  # stands in for an unbuffered channel
    rf = watched_peer(small_raft, reports, rendezvous)
    action = {
        "sleep": lambda r: small_raft.time.sleep(0.001),
        "Call": lambda r: r.peers[0].Call("Raft.RequestVote", 1, []),
        "put": lambda r: r.applyCh.put("msg"),
    }[call]
    rf.unlocked(action)  # fine without the lock
    if call == "put":
        rendezvous.get()
        rf.locked(lambda r: r.applyCh.put("msg", block=False))  # does not block
        rendezvous.get()
    assert reports == []
    rf.locked(action)
    assert len(reports) == 1, reports
    name = {"sleep": "time.sleep", "Call": "Call('Raft.RequestVote')", "put": "applyCh.put"}
    assert reports[0].startswith(f"{name[call]} called while holding Raft[0]'s lock self.mu")
    assert "test_racecheck.py" in reports[0] and "in <lambda>" in reports[0]


def test_the_lock_works_with_its_condition_and_as_an_rlock() -> None:
    for lock in (racecheck.OwnedLock(), racecheck.OwnedRLock()):
        cond = threading.Condition(lock)
        ready: List[bool] = []

        def waiter() -> None:
            with cond:
                assert cond.wait_for(lambda: ready, timeout=5)
                assert lock.held_by_me()

        th = threading.Thread(target=waiter)
        th.start()
        with cond:
            ready.append(True)
            cond.notify_all()
        th.join()
    rlock = racecheck.OwnedRLock()
    with rlock:
        with rlock:
            assert rlock.held_by_me()
        assert rlock.held_by_me()
    assert not rlock.held_by_me() and not rlock.locked()


FAILS_OTHERWISE = '''
import queue

import racecheck

import {module}


def test_a_peer_that_deadlocks() -> None:
    rf = racecheck.make_watched({module}.Make, [], 0, None, queue.Queue(),
                                report=lambda text: None)
    rf.locked(lambda r: {module}.time.sleep(0.001))
    assert False, "the test ended some other way (a timeout, say)"
'''


def test_a_test_that_fails_otherwise_shows_the_reports(
        tmp_path: Path, small_raft: types.ModuleType) -> None:
    (tmp_path / "test_otherwise.py").write_text(
        FAILS_OTHERWISE.format(module=small_raft.__name__))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_otherwise.py"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )
    assert result.returncode == 1, result.stdout
    assert "the test ended some other way" in result.stdout
    assert "race checker" in result.stdout
    assert "time.sleep called while holding Raft[0]'s lock self.mu" in result.stdout


class BareLock:
    """A lock with acquire, release and locked only, as a simulator's may be."""

    def __init__(self) -> None:
        self._real = threading.Lock()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        return self._real.acquire(blocking, timeout)

    def release(self) -> None:
        self._real.release()

    def locked(self) -> bool:
        return self._real.locked()


def test_the_locks_handed_to_raft_need_only_acquire_release_and_locked() -> None:
    base = types.SimpleNamespace(Lock=BareLock, Condition=threading.Condition,
                                 Thread=threading.Thread)
    owned = racecheck.threading_with_owned_locks(base)
    for lock in (owned.Lock(), owned.RLock()):
        assert isinstance(lock._lock, BareLock)
        cond = owned.Condition(lock)
        with cond:
            assert lock.held_by_me()
            assert not cond.wait(timeout=0.01)  # releases and takes back the lock
            assert lock.held_by_me() and lock.locked()
        assert not lock.locked()
    assert isinstance(owned.Condition()._lock, racecheck.OwnedRLock)


# --- planted bugs: copies of the solution with a race, through `pytest -k 2A --race` ---


@pytest.mark.parametrize("bug", race_bugs(), ids=lambda bug: bug.name)
def test_a_planted_race_bug_is_reported_by_the_election_tests(bug: object) -> None:
    found, output, _ = run_race_check(bug)
    assert found, output[-4000:]


@pytest.mark.parametrize("bug", race_bugs(), ids=lambda bug: bug.name)
def test_a_planted_race_bug_is_reported_under_the_simulation_too(bug: object) -> None:
    found, output, _ = run_race_check(bug, extra=["--sim"])
    assert found, output[-4000:]
