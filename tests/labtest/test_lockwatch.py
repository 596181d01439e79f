"""The lock watchdog and the bounded calls, in this process (labtest.lockwatch, .peercalls).

The planted bugs in a lab tree, run as a student runs them, are in test_kit_hangs.py.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, List

import pytest

from labtest import lockwatch, peercalls
from labtest.testing import T, TestFailure


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Watchdogs that look every 50 ms and call a lock stuck after 0.3 s."""
    monkeypatch.setattr(lockwatch, "LOCK_WAIT_S", 0.3)
    monkeypatch.setattr(lockwatch, "POLL_S", 0.05)
    monkeypatch.setattr(peercalls, "CALL_LIMIT_S", 0.6)
    monkeypatch.setattr(peercalls, "POLL_S", 0.05)
    yield


def watched(label: str, reports: List[str]) -> lockwatch.WatchedLock:
    lock = lockwatch.WatchedLock(threading.Lock())
    lock.label, lock.peer, lock.on_stuck = label, "S0", reports.append
    return lock


@contextmanager
def harness_call(what: str) -> Iterator[None]:
    """The calling thread is the tester in what (a bounded call into a peer)."""
    ident = threading.get_ident()
    outer = lockwatch.calling(ident, what)
    try:
        yield
    finally:
        lockwatch.done(ident, outer)


def hold_while_blocked(lock: Any, released: threading.Event) -> threading.Thread:
    """A thread that takes lock and blocks, lock held, until released is set."""
    def holder() -> None:
        with lock:
            released.wait()  # stands for a Call, a sleep, a put
    thread = threading.Thread(target=holder, name="holder")
    thread.start()
    while not lock.locked():
        time.sleep(0.001)
    return thread


def test_the_testers_wait_on_a_lock_a_blocked_thread_holds_fails_with_both_stacks(
        quick: None) -> None:
    reports: List[str] = []
    lock = watched("S0's lock self.mu", reports)
    released = threading.Event()
    holder = hold_while_blocked(lock, released)
    try:
        with harness_call("S0.GetState()"):
            t0 = time.monotonic()
            with pytest.raises(lockwatch.PeerCallStuck) as stuck:
                lock.acquire()
            waited = time.monotonic() - t0
    finally:
        released.set()
        holder.join()
    assert 0.3 <= waited < 2.0
    report = str(stuck.value)
    assert report == reports[0] and len(reports) == 1
    head = report.splitlines()[0]
    assert head.startswith("lock watchdog: S0's lock self.mu has been held for 0.")
    assert "by holder, which is blocked in threading.Event.wait, at test_lockwatch.py:" in head
    assert "in holder" in head
    assert "  holder holds S0's lock self.mu:" in report
    assert "in holder: released.wait()  # stands for a Call, a sleep, a put" in report
    assert "(the tester, in S0.GetState()) has waited 0." in report
    assert "in test_the_testers_wait_on_a_lock_a_blocked_thread_holds_fails_with_both_stacks:" \
        " lock.acquire()" in report
    assert not lock.locked()  # the tester never took it


def test_a_peers_thread_keeps_waiting_and_the_holding_is_reported_once(quick: None) -> None:
    reports: List[str] = []
    lock = watched("S0's lock self.mu", reports)
    released = threading.Event()
    holder = hold_while_blocked(lock, released)
    got: List[float] = []

    def waiter() -> None:
        with lock:
            got.append(time.monotonic())
    waiters = [threading.Thread(target=waiter, name=f"waiter-{i}") for i in range(2)]
    for thread in waiters:
        thread.start()
    time.sleep(1.0)
    assert len(reports) == 1 and not got
    assert "while 2 threads wait for it" in reports[0]
    released.set()
    for thread in [holder] + waiters:
        thread.join(5)
    assert len(got) == 2  # the peer's threads got the lock once it was free


def test_a_lock_held_for_less_than_the_limit_is_not_reported(quick: None) -> None:
    reports: List[str] = []
    lock = watched("S0's lock self.mu", reports)
    released = threading.Event()
    holder = hold_while_blocked(lock, released)
    threading.Timer(0.15, released.set).start()
    with harness_call("S0.GetState()"):
        with lock:
            pass
    holder.join()
    assert reports == []


def test_watched_locks_work_with_conditions_timeouts_and_as_rlocks() -> None:
    lock = lockwatch.WatchedLock(threading.Lock())
    cond = threading.Condition(lock)
    items: List[int] = []

    def consumer() -> None:
        with cond:
            while not items:
                cond.wait()
            items.append(len(items))
    thread = threading.Thread(target=consumer)
    thread.start()
    time.sleep(0.05)
    with cond:
        items.append(7)
        cond.notify_all()
    thread.join(5)
    assert items == [7, 1]
    assert lock.acquire() and not lock.acquire(False) and not lock.acquire(True, 0.05)
    lock.release()
    rlock = lockwatch.WatchedRLock(threading.Lock())
    with rlock:
        with rlock:
            assert rlock.locked()
        assert rlock.locked()
    assert not rlock.locked()
    with pytest.raises(RuntimeError):
        rlock.release()


SMALL_RAFT = '''
import threading
from threading import Lock


class Raft:
    def __init__(self):
        self.mu = Lock()
        self.cond = threading.Condition(self.mu)
        self.other = threading.RLock()
        self.spare = [threading.Lock()]


def Make(peers, me, persister, applyCh):
    return Raft()
'''


def test_make_hands_raft_py_watched_locks_named_after_their_attributes(tmp_path: Path) -> None:
    path = tmp_path / "small_raft.py"
    path.write_text(SMALL_RAFT)
    spec = importlib.util.spec_from_file_location("small_raft", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["small_raft"] = module
    try:
        spec.loader.exec_module(module)
        peer = lockwatch.build_peer(module.Make, ([], 3, None, None), "S3", print)
        assert isinstance(peer.mu, lockwatch.WatchedLock)
        assert peer.mu.label == "S3's lock self.mu" and peer.cond._lock is peer.mu
        assert peer.other.label == "S3's lock self.other"
        assert peer.spare[0].label == "S3's lock made at small_raft.py:11 in __init__"
        # raft.py's names are its own again once Make returned.
        assert module.threading is threading and module.Lock is threading.Lock
    finally:
        del sys.modules["small_raft"]


def test_a_call_blocked_elsewhere_than_on_a_lock_is_interrupted_on_the_main_thread(
        quick: None) -> None:
    t = T(echo=False)
    never = threading.Event()
    t0 = time.monotonic()
    with pytest.raises(TestFailure) as failure:
        peercalls.bounded(t, "S1.Kill()", never.wait)
    assert time.monotonic() - t0 < 3.0
    message = str(failure.value)
    assert message.startswith("call watchdog: the tester's call S1.Kill() has not returned "
                              "after 1 s: MainThread is blocked in threading.Event.wait, at ")
    assert t.later_failure() == message  # one failure, not a chain of two


def test_a_call_blocked_on_another_thread_fails_the_test_at_its_next_check(
        quick: None) -> None:
    t = T(echo=False)
    release = threading.Event()

    def tester() -> None:
        peercalls.bounded(t, "S2.Start(...)", release.wait)
    caller = threading.Thread(target=tester, name="test-starter")
    caller.start()
    deadline = time.monotonic() + 5
    while t.later_failure() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    release.set()
    caller.join(5)
    message = t.later_failure() or ""
    assert message.startswith("call watchdog: the tester's call S2.Start(...) has not "
                              "returned after 1 s: test-starter is blocked in "
                              "threading.Event.wait")
    with pytest.raises(TestFailure):
        t.check_later_failures()


def test_a_thread_that_takes_its_own_lock_again_is_told_a_lock_is_not_reentrant(
        quick: None) -> None:
    reports: List[str] = []
    lock = watched("S0's lock self.mu", reports)
    with harness_call("S0's Make()"):
        with lock:
            with pytest.raises(lockwatch.PeerCallStuck) as stuck:
                lock.acquire()
    head = str(stuck.value).splitlines()[0]
    assert head.startswith("lock watchdog: S0's lock self.mu is held by MainThread (the "
                           "tester, in S0's Make()), which has waited 0.")
    assert "s to take it again itself, at test_lockwatch.py:" in head
    assert ": lock.acquire(). A threading.Lock is not re-entrant: " in head


def test_a_stop_of_the_whole_process_counts_as_one_slice_of_waiting() -> None:
    waited = lockwatch.Waited(100.0, 0.5)
    assert waited.tick(100.5) == 0.5 and waited.tick(101.0) == 1.0
    assert waited.tick(108.0) == 1.5  # 7 s without a poll: the machine stopped us
    assert waited.tick(108.5) == 2.0


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="needs SIGSTOP")
def test_a_lock_held_briefly_across_a_stop_of_the_process_is_not_reported(
        quick: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lockwatch, "LOCK_WAIT_S", 0.5)
    reports: List[str] = []
    lock = watched("S0's lock self.mu", reports)
    released = threading.Event()
    holder = hold_while_blocked(lock, released)

    def release_soon_after_the_stop() -> None:
        last = time.monotonic()
        while time.monotonic() - last < 1.0:  # (a gap of a second: the stop)
            last = time.monotonic()
            time.sleep(0.01)
        time.sleep(0.1)  # the waiter polls twice more with the lock still held
        released.set()
    threading.Thread(target=release_soon_after_the_stop).start()
    # A loaded machine stops the whole process for 1.5 s (3 times LOCK_WAIT_S).
    stopper = subprocess.Popen(["sh", "-c", f"sleep 0.1; kill -STOP {os.getpid()}; "
                                            f"sleep 1.5; kill -CONT {os.getpid()}"])
    t0 = time.monotonic()
    try:
        with harness_call("S0.GetState()"):
            with lock:
                pass
    finally:
        stopper.wait()
        holder.join()
    assert time.monotonic() - t0 > 1.5  # (the stop did happen during the wait)
    assert reports == []
