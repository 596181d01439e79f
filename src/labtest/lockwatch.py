"""The lock watchdog: a peer's lock held by a blocked thread while others wait.

    rf = build_peer(Make, (peers, me, persister, applyCh), "S0", on_stuck)
                    -- Make, with raft.py's threading.Lock/RLock/Condition made
                       watched locks while it runs (and put back after); each
                       lock is named after the attribute that holds it (self.mu)
    saved = calling(ident, "S0.GetState()", t) ... done(ident, saved)
                    -- mark a call of the harness into a peer (peercalls does);
                       harness_call(ident), harness_calls(): the marks
    LOCK_WAIT_S     how long a waiter waits on one holding before it is stuck
    PeerCallStuck   raised in the harness's thread that waits on a stuck lock
    REPORT_START    how a report begins ("lock watchdog:")
Questions any report may ask of a thread (hangs, peercalls use them):
    waiting_for(ident)  (the watched lock it waits for, since when), or None
    held_by(ident)      the labels of the watched locks it holds
    who(ident)          "labrpc-handler-2 (in S0.RequestVote)"
    doing(ident)        "blocked in Call('Raft.Vote') to S1", "waiting for S1's
                        lock self.mu (held by raft-S1-ticker)", "at: time.sleep(1)"
    situation(ident)    the same with where: "..., at raft.py:52 in vote"

A watched lock is a plain lock that also keeps its holder's ident and how
many times it was taken. Taking a free lock costs one extra test and two
stores. A thread that finds it held waits in slices of POLL_S (real time,
or the simulation's virtual time: the wait is the lock's own, with a
timeout); once it has waited LOCK_WAIT_S while the same holder kept the
lock the whole time (counting at most POLL_S a slice: a process stopped
whole by a loaded machine stops the holder too), the lock is stuck: the
lab's rule (one lock per peer, never held across an RPC, a sleep, a put on
applyCh or a wait for another thread) is broken, and in Go the test would
hang. Then, once per holding:

  on_stuck(report)   is called (the harness: t.fail_later, so the test fails
                     at its next check): the report names the holder, what it
                     is blocked in (file:line in raft.py), every waiter, and
                     their short stacks; other stuck locks too (a deadlock
                     between two peers shows both);
  a waiter that is a call of the harness into the peer (GetState, Start,
  Kill, ...: marked with calling) raises PeerCallStuck(report), so that the
  test's thread, which cannot reach a check while it waits, fails at once.
  Other waiters (the peer's own threads) go on waiting.
"""

from __future__ import annotations

import _thread
import sys
import threading
import time
import weakref
from types import FrameType
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from labtest import threadview
from labtest.testing import TestFailure
from racecheck.locks import hand_threading, put_back, threading_with_locks

# A waiter that has waited this long while one holder kept the lock
# throughout reports it. The lab's locks are held for microseconds; a
# blocked holder holds it for seconds (a Call to a cut-off peer: up to 7 s).
# (More than applyCh's DEADLOCK_S, which names that deadlock better.)
LOCK_WAIT_S = 3.0
# How often a waiter wakes to look.
POLL_S = 0.5

RULE = ("A peer must never hold its lock across an RPC (Call), a sleep, a put on applyCh "
        "or a wait for another lock or thread: take what it needs, release the lock, "
        "then block.")

# How the watchdog's reports begin.
REPORT_START = "lock watchdog:"
# How many waiters of one lock a report shows with their stacks.
WAITERS_SHOWN = 3


class PeerCallStuck(TestFailure):
    """A call of the harness into a peer waited on a stuck lock."""


# The harness's calls into peers, by thread ident: (what, since, whose: the
# test's handle, for peercalls).
_calls: Dict[int, Tuple[str, float, Any]] = {}
# Threads waiting on a watched lock, by ident: (lock, when they began to wait,
# when the holding they wait on began, as far as they saw it).
_waiting: Dict[int, Tuple["WatchedLock", float, float]] = {}
# Every lock built into a peer (for a report of all the stuck ones at once).
_locks: "weakref.WeakSet[WatchedLock]" = weakref.WeakSet()
_report_mu = _thread.allocate_lock()  # a real lock: a report never blocks in it


def calling(ident: int, what: str, whose: Any = None) -> Optional[Tuple[str, float, Any]]:
    """Mark thread ident as the harness calling into a peer; returns the mark to restore."""
    outer = _calls.get(ident)
    _calls[ident] = (what, time.monotonic(), whose)
    return outer


def done(ident: int, outer: Optional[Tuple[str, float, Any]]) -> None:
    if outer is None:
        _calls.pop(ident, None)
    else:
        _calls[ident] = outer


def harness_call(ident: Optional[int]) -> Optional[Tuple[str, float, Any]]:
    """(what, since, whose) if thread ident is inside a call of the harness into a peer."""
    return _calls.get(ident) if ident is not None else None


def harness_calls() -> Dict[int, Tuple[str, float, Any]]:
    return dict(_calls)


def waiting_for(ident: Optional[int]) -> Optional[Tuple["WatchedLock", float]]:
    """(lock, since) if thread ident waits for a watched lock."""
    waits = _waiting.get(ident) if ident is not None else None
    return None if waits is None else (waits[0], waits[1])


class Waited:
    """The time a poller has seen pass, each gap between its polls counted as at
    most `most` seconds: on a loaded machine the whole process can stop for
    seconds, and such a stop is not time a holder kept its lock (nor a call
    its thread) while the others ran."""

    def __init__(self, now: float, most: float) -> None:
        self.last = now
        self.most = most
        self.total = 0.0

    def tick(self, now: float) -> float:
        self.total += min(max(now - self.last, 0.0), self.most)
        self.last = now
        return self.total


class WatchedLock:
    """A lock that knows its holder and reports being held by a stuck thread."""

    def __init__(self, inner: Any, site: str = "") -> None:
        self._inner = inner
        self._holder = 0  # the holder's ident (0: free)
        self._taken = 0  # how many times it was taken: a holding's number
        self._reported = 0  # the holding last reported
        # "S0's lock self.mu" once the peer is built (build_peer).
        self.label = f"made at {site}" if site else "made in raft.py"
        self.peer = ""  # the peer's name ("S0")
        self.on_stuck: Optional[Callable[[str], None]] = None

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self._inner.acquire(False):
            self._holder = _thread.get_ident()
            self._taken += 1
            return True
        if not blocking:
            return False
        return self._wait(timeout)

    __enter__ = acquire

    def release(self) -> None:
        self._holder = 0
        self._inner.release()

    def __exit__(self, *exc_info: Any) -> None:
        self.release()

    def locked(self) -> bool:
        return self._inner.locked()

    # What threading.Condition (and a simulator's) asks of its lock.
    def _is_owned(self) -> bool:
        return self._holder == _thread.get_ident() and self._inner.locked()

    def _release_save(self) -> Any:
        self.release()

    def _acquire_restore(self, _saved: Any) -> None:
        self.acquire()

    def holder(self) -> int:
        return self._holder

    def _wait(self, timeout: float) -> bool:
        me = _thread.get_ident()
        began = time.monotonic()
        deadline = None if timeout is None or timeout < 0 else began + timeout
        holding, waited = self._taken, Waited(began, POLL_S)
        outer = _waiting.get(me)
        _waiting[me] = (self, began, began)
        try:
            while True:
                step = POLL_S if deadline is None else min(POLL_S, deadline - time.monotonic())
                if step > 0 and self._inner.acquire(True, step):
                    self._holder = me
                    self._taken += 1
                    return True
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    return False
                if self._taken != holding:
                    # Another holding: count anew.
                    holding, waited = self._taken, Waited(now, POLL_S)
                    _waiting[me] = (self, began, now)
                elif waited.tick(now) >= LOCK_WAIT_S:
                    self._stuck(holding, me)
        finally:
            if outer is None:
                _waiting.pop(me, None)
            else:
                _waiting[me] = outer

    def _stuck(self, holding: int, me: int) -> None:
        with _report_mu:
            first = self._reported != holding
            self._reported = holding
        if first or harness_call(me) is not None:
            report = stuck_report(self)
            if first and self.on_stuck is not None:
                self.on_stuck(report)
            if harness_call(me) is not None:
                raise PeerCallStuck(report)

    def __repr__(self) -> str:
        state = "locked" if self.locked() else "unlocked"
        return f"<{type(self).__name__} {self.label} {state}>"


class WatchedRLock(WatchedLock):
    """A re-entrant WatchedLock, counted here over a plain lock."""

    def __init__(self, inner: Any, site: str = "") -> None:
        super().__init__(inner, site)
        self._count = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self._holder == _thread.get_ident():
            self._count += 1
            return True
        got = WatchedLock.acquire(self, blocking, timeout)
        if got:
            self._count = 1
        return got

    __enter__ = acquire

    def release(self) -> None:
        if self._holder != _thread.get_ident():
            raise RuntimeError("cannot release un-acquired lock")
        self._count -= 1
        if self._count == 0:
            WatchedLock.release(self)

    def _release_save(self) -> Any:
        # Condition.wait releases an RLock however deep it is held.
        count, self._count = self._count, 1
        self.release()
        return count

    def _acquire_restore(self, count: Any) -> None:
        self.acquire()
        self._count = count


# --- building a peer ----------------------------------------------------------------


def _site() -> str:
    """Where raft.py made a lock: its innermost frame of the code under test."""
    return threadview.location(sys._getframe(2))


def build_peer(make: Callable[..., Any], args: Sequence[Any], label: str,
               on_stuck: Callable[[str], None],
               call: Optional[Callable[..., Any]] = None,
               peer_labels: Sequence[str] = ()) -> Any:
    """make(*args), with raft.py's (make's module's) locks watched; names them.

    call(make, *args) builds the peer when given (the race checker's
    make_watched, whose own locks then wrap these). peer_labels[j] names the
    peer that args[0][j], an end, reaches (reports say where a Call goes).
    """
    for end, reaches in zip(args[0] if args else (), peer_labels):
        threadview.label(end, reaches)
    module = sys.modules[make.__module__]
    base = getattr(module, "threading", threading)
    made: List[WatchedLock] = []

    def new_lock() -> WatchedLock:
        lock = WatchedLock(base.Lock(), _site())
        made.append(lock)
        return lock

    def new_rlock() -> WatchedLock:
        lock = WatchedRLock(base.Lock(), _site())
        made.append(lock)
        return lock

    saved = hand_threading(module, threading_with_locks(base, new_lock, new_rlock))
    try:
        peer = make(*args) if call is None else call(make, *args)
    finally:
        put_back(module, saved)
    threadview.label(peer, label)
    names = _attribute_names(peer)
    for lock in made:
        lock.label = f"{label}'s lock {names.get(id(lock), lock.label)}"
        lock.peer = label
        lock.on_stuck = on_stuck
        _locks.add(lock)
    return peer


def _watched_in(value: Any) -> Optional[WatchedLock]:
    """The watched lock value is, or wraps (a Condition, the race checker's lock)."""
    for _ in range(3):
        if isinstance(value, WatchedLock):
            return value
        value = getattr(value, "_lock", None)
    return None


def _attribute_names(peer: Any) -> Dict[int, str]:
    """id(lock) -> "self.mu" for the watched locks the peer's attributes hold;
    a lock only a Condition holds is "of self.cond"."""
    try:
        attrs = object.__getattribute__(peer, "__dict__")
    except AttributeError:
        return {}  # a class with __slots__: its locks are named by where they were made
    names: Dict[int, str] = {}
    for name, value in attrs.items():
        lock = _watched_in(value)
        if lock is not None and not hasattr(value, "wait"):
            names.setdefault(id(lock), f"self.{name}")
    for name, value in attrs.items():
        lock = _watched_in(value)
        if lock is not None and hasattr(value, "wait"):
            names.setdefault(id(lock), f"of self.{name}")
    return names


# --- the report ---------------------------------------------------------------------------


def who(ident: int) -> str:
    """A thread's name, and whose code it runs: "labrpc-handler-2 (in
    S0.RequestVote)", "MainThread (the tester, in S0.GetState())"."""
    name = threadview.name_of(ident)
    call = harness_call(ident)
    if call is not None:
        return f"{name} (the tester, in {call[0]})"
    inside = threadview.whose(threadview.frame_of(ident))
    return f"{name} (in {inside})" if inside else name


def doing(ident: int, frame: Optional[FrameType] = None) -> str:
    """What thread ident is doing, in words: "waiting for S1's lock self.mu (held
    by raft-S1-ticker)", "blocked in Call('Raft.RequestVote')", "at: time.sleep(1)"."""
    if frame is None:
        frame = threadview.frame_of(ident)
        if frame is None:
            return "ended"
    waits = waiting_for(ident)
    if waits is not None:
        holder = waits[0].holder()
        by = f" (held by {threadview.name_of(holder)})" if holder else ""
        return f"waiting for {waits[0].label}{by}"
    inside = threadview.blocked_in(frame)
    if inside:
        return f"blocked in {inside}"
    line = threadview.short_stack(frame, 1)[0].split(": ", 1)
    return f"at: {line[1]}" if len(line) == 2 else "running"


def held_by(ident: int) -> List[str]:
    """The labels of the watched locks thread ident holds."""
    return [lock.label for lock in list(_locks) if lock.holder() == ident]


def situation(ident: int) -> str:
    """Where thread ident is and what it does there: "blocked in Call('Raft.Vote'),
    at raft.py:52 in vote", "at raft.py:60 in tick: time.sleep(1)", "ended"."""
    frame = threadview.frame_of(ident)
    if frame is None:
        return "ended"
    what = doing(ident, frame)
    where = threadview.location(frame)
    if what.startswith("at: "):
        return f"at {where}: {what[4:]}"
    return f"{what}, at {where}"


def _stuck_locks(first: WatchedLock) -> List[Tuple[WatchedLock, float, List[Tuple[int, float]]]]:
    """first and every other watched lock a thread has waited LOCK_WAIT_S for, on
    one holding: (lock, how long it has been held at least, [(waiter, waited)])."""
    now = time.monotonic()
    waiters: Dict[int, List[Tuple[int, float]]] = {}
    held: Dict[int, float] = {}
    locks: Dict[int, WatchedLock] = {id(first): first}
    for ident, (lock, began, holding_since) in list(_waiting.items()):
        if lock is first or now - holding_since >= LOCK_WAIT_S:
            locks.setdefault(id(lock), lock)
            waiters.setdefault(id(lock), []).append((ident, now - began))
            held[id(lock)] = max(held.get(id(lock), 0.0), now - holding_since)
    ordered = [first] + [lock for key, lock in locks.items() if lock is not first]
    # The tester's own waits first: they are what the test is stuck in.
    return [(lock, held.get(id(lock), 0.0),
             sorted(waiters.get(id(lock), []),
                    key=lambda w: (harness_call(w[0]) is None, -w[1])))
            for lock in ordered if lock.holder()]


def stuck_report(lock: WatchedLock) -> str:
    """The lock watchdog's report: every stuck lock, its holder, its waiters."""
    stuck = _stuck_locks(lock)
    heads, details = [], []
    for number, (each, longest, waiters) in enumerate(stuck):
        holder = each.holder()
        count = f"{len(waiters)} thread{'s' if len(waiters) != 1 else ''}"
        lead = f"{REPORT_START} " if number == 0 else "and "
        waits = waiting_for(holder)
        if waits is not None and waits[0] is each:
            # The holder waits for its own lock: a Lock is not re-entrant.
            frame = threadview.frame_of(holder)
            line = threadview.short_stack(frame, 1)[0].strip()
            heads.append(f"{lead}{each.label} is held by {who(holder)}, which has waited "
                         f"{time.monotonic() - waits[1]:.1f} s to take it again itself, at "
                         f"{line}. A threading.Lock is not re-entrant: a thread that holds "
                         "it must not take it again (in a method it calls, say).")
            waiters = [(ident, waited) for ident, waited in waiters if ident != holder]
            if not waiters:
                details.append(f"  {threadview.name_of(holder)} holds {each.label}:")
                details.extend(threadview.short_stack(frame))
                continue
        else:
            heads.append(f"{lead}{each.label} has been held for {longest:.1f} s by "
                         f"{threadview.name_of(holder)}, which is {situation(holder)}, while "
                         f"{count} wait{'s' if len(waiters) == 1 else ''} for it.")
        details.append(f"  {threadview.name_of(holder)} holds {each.label}:")
        details.extend(threadview.short_stack(threadview.frame_of(holder)))
        for ident, waited in waiters[:WAITERS_SHOWN]:
            details.append(f"  {who(ident)} has waited {waited:.1f} s for it:")
            details.extend(threadview.short_stack(threadview.frame_of(ident), 4))
        if len(waiters) > WAITERS_SHOWN:
            more = ", ".join(threadview.name_of(i) for i, _ in waiters[WAITERS_SHOWN:])
            details.append(f"  and {len(waiters) - WAITERS_SHOWN} more waiting: {more}")
    if not heads:
        return f"{REPORT_START} {lock.label} was stuck, and is free again"
    return "\n".join(heads + _cycle(stuck) + [RULE] + details)


def _cycle(stuck: List[Tuple[WatchedLock, float, List[Tuple[int, float]]]]) -> List[str]:
    """A sentence for peers whose stuck locks are held across Calls to each other."""
    by_peer = {lock.peer: lock for lock, _, _ in stuck if lock.peer}
    goes_to = {}
    for peer, lock in by_peer.items():
        target = threadview.call_target(threadview.frame_of(lock.holder()))
        if target in by_peer:
            goes_to[peer] = target
    path: List[str] = []
    peer = stuck[0][0].peer
    while peer in goes_to and peer not in path:
        path.append(peer)
        peer = goes_to[peer]
    if not path or peer not in path:
        return []
    loop = path[path.index(peer):] + [peer]
    steps = [f"{a}'s lock is held across a Call to {b}, whose handler waits for {b}'s lock"
             for a, b in zip(loop, loop[1:])]
    return ["These peers wait for each other: " + "; ".join(steps) +
            (". Neither Call can ever return." if len(loop) == 3 else
             ". None of these Calls can ever return.")]
