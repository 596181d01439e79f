"""The patched primitives: each works for real outside a simulation, and
through the scheduler inside one.

    Lock, RLock, Condition     threading's; Event, Semaphore, Barrier and
                               queue.Queue are built on these by the standard
                               library and need no patch of their own
    SimpleQueue                queue's (a C type, so replaced whole)
    sleep, monotonic, time, perf_counter (and _ns forms)
    thread_start, thread_join, thread_is_alive   threading.Thread's methods

A lock holds a real raw lock as well as its owner, so a lock made in one
run and used outside it (or the other way round) still excludes. Locks made
by the logging module stay real: a DPrintf line must not become a
scheduling point, or turning debug output on would change a seed's run.
"""

from __future__ import annotations

import _thread
import sys
import threading
import time as _time
from collections import deque
from queue import Empty
from typing import Any, Deque, Optional, Tuple

from labsim import core, pool
from labsim.errors import SimFailure, SimKilled

managed = core.managed

# The real things, kept before anything is patched.
real_sleep = _time.sleep
real_monotonic = _time.monotonic
real_monotonic_ns = _time.monotonic_ns
real_time = _time.time
real_time_ns = _time.time_ns
real_perf_counter = _time.perf_counter
real_perf_counter_ns = _time.perf_counter_ns
RealCondition = threading.Condition
real_rlock = threading.RLock
real_thread_start = threading.Thread.start
real_thread_join = threading.Thread.join
real_thread_is_alive = threading.Thread.is_alive

_REAL_LOCK_MODULES = frozenset({"logging", "logging.handlers"})


def _made_by_logging() -> bool:
    return sys._getframe(2).f_globals.get("__name__") in _REAL_LOCK_MODULES


# --- time -------------------------------------------------------------------------------


def sleep(seconds: float) -> None:
    sim, me = managed()
    if sim is None:
        return real_sleep(seconds)
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    if seconds <= sim.clock.step_cost:
        sim.sync("sleep(0)")
        return
    sim.prepare(me)
    sim.block(me, "sleep", sim.clock.elapsed + seconds)


def monotonic() -> float:
    sim = core._ACTIVE
    if sim is not None and sim.current is not None and sim.current.ident == _thread.get_ident():
        return sim.clock.monotonic()
    return real_monotonic()


def monotonic_ns() -> int:
    sim, _ = managed()
    return int(sim.clock.monotonic() * 1e9) if sim is not None else real_monotonic_ns()


def perf_counter() -> float:
    sim, _ = managed()
    return sim.clock.monotonic() if sim is not None else real_perf_counter()


def perf_counter_ns() -> int:
    sim, _ = managed()
    return int(sim.clock.monotonic() * 1e9) if sim is not None else real_perf_counter_ns()


def time() -> float:
    sim, _ = managed()
    return sim.clock.wall() if sim is not None else real_time()


def time_ns() -> int:
    sim, _ = managed()
    return int(sim.clock.wall() * 1e9) if sim is not None else real_time_ns()


def _deadline(sim: Any, timeout: Optional[float]) -> Optional[float]:
    if timeout is None or timeout < 0:
        return None
    return sim.clock.deadline(timeout)


# --- locks ------------------------------------------------------------------------------


class Lock:
    """threading.Lock under the simulation."""

    _labsim = True

    def __new__(cls) -> Any:
        if cls is Lock and _made_by_logging():
            return _thread.allocate_lock()
        return super().__new__(cls)

    def __init__(self) -> None:
        self._real = _thread.allocate_lock()
        self._owner: Optional[int] = None
        self._waiters: Deque[Tuple[Any, int]] = deque()
        # A lock made outside the run (a module's cache lock, made at import)
        # is taken without a scheduling point when it is free: whether a
        # cache was already warm must not change a run's schedule.
        self._run = core._ACTIVE

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        sim, me = managed()
        if sim is None:
            got = self._real.acquire(blocking, timeout)
            if got:
                self._owner = _thread.get_ident()
            return got
        if self._run is sim or self._real.locked():
            sim.sync(self)
        if self._real.locked():
            if not blocking:
                return False
            deadline = _deadline(sim, timeout)
            while self._real.locked():
                if deadline is not None and sim.clock.elapsed >= deadline:
                    return False
                self._waiters.append((me, sim.prepare(me)))
                sim.block(me, self, deadline)
        self._real.acquire(False)
        self._owner = me.ident
        return True

    def release(self) -> None:
        sim, me = managed()
        if sim is not None and me.killed and not self._real.locked():
            return  # a stopped thread unwinding through `with`: nothing to undo
        self._owner = None
        self._real.release()
        if sim is not None:
            self._wake_one(sim)

    def _wake_one(self, sim: Any) -> None:
        waiters = self._waiters
        while waiters:
            rec, seq = waiters.popleft()
            if rec.seq == seq and not rec.runnable and not rec.done:
                sim.wake(rec)
                return

    def locked(self) -> bool:
        return self._real.locked()

    def _is_owned(self) -> bool:
        return self._real.locked() and self._owner == _thread.get_ident()

    def _release_save(self) -> Any:
        self.release()

    def _acquire_restore(self, saved: Any) -> None:
        self.acquire()

    def _at_fork_reinit(self) -> None:
        self._run = None
        self._real = _thread.allocate_lock()
        self._owner = None
        self._waiters.clear()

    __enter__ = acquire

    def __exit__(self, *exc_info: Any) -> None:
        self.release()

    def _labsim_describe(self, sim: Any) -> str:
        holder = sim.name_of(self._owner) if self._real.locked() else "nobody"
        return f"{type(self).__name__} at {id(self):#x}, held by {holder}"

    def __repr__(self) -> str:
        state = "locked" if self._real.locked() else "unlocked"
        return f"<labsim {type(self).__name__} {state} at {id(self):#x}>"


class RLock(Lock):
    """threading.RLock under the simulation."""

    def __new__(cls) -> Any:
        if _made_by_logging():
            return real_rlock()
        return object.__new__(cls)

    def __init__(self) -> None:
        super().__init__()
        self._count = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        me = _thread.get_ident()
        if self._owner == me and self._real.locked():
            self._count += 1
            return True
        got = super().acquire(blocking, timeout)
        if got:
            self._count = 1
        return got

    __enter__ = acquire

    def release(self) -> None:
        if self._owner != _thread.get_ident() or not self._real.locked():
            sim, me = managed()
            if sim is not None and me.killed:
                return
            raise RuntimeError("cannot release un-acquired lock")
        self._count -= 1
        if self._count == 0:
            super().release()

    def _release_save(self) -> Any:
        if not self._is_owned():
            raise RuntimeError("cannot release un-acquired lock")
        count, self._count = self._count, 1
        Lock.release(self)
        self._count = 0
        return count

    def _acquire_restore(self, count: Any) -> None:
        Lock.acquire(self)
        self._count = count

    def _at_fork_reinit(self) -> None:
        super()._at_fork_reinit()
        self._count = 0


class Condition:
    """threading.Condition under the simulation, on any lock.

    Uses the lock's _release_save/_acquire_restore/_is_owned when it has
    them (an RLock, or a wrapper that knows its owner), else release/acquire.
    """

    def __init__(self, lock: Any = None) -> None:
        if lock is None:
            lock = RLock()
        self._lock = lock
        self.acquire = lock.acquire
        self.release = lock.release
        self._waiters: Deque[Tuple[Any, int]] = deque()
        self._real_cond: Any = None

    def __enter__(self) -> Any:
        return self._lock.__enter__()

    def __exit__(self, *exc_info: Any) -> Any:
        return self._lock.__exit__(*exc_info)

    def _is_owned(self) -> bool:
        owned = getattr(self._lock, "_is_owned", None)
        if owned is not None:
            return owned()
        if self._lock.acquire(False):
            self._lock.release()
            return False
        return True

    def _release_save(self) -> Any:
        save = getattr(self._lock, "_release_save", None)
        if save is not None:
            return save()
        self._lock.release()
        return None

    def _acquire_restore(self, saved: Any) -> None:
        restore = getattr(self._lock, "_acquire_restore", None)
        if restore is not None:
            restore(saved)
        else:
            self._lock.acquire()

    def _real(self) -> Any:
        if self._real_cond is None:
            self._real_cond = RealCondition(self._lock)
        return self._real_cond

    def wait(self, timeout: Optional[float] = None) -> bool:
        sim, me = managed()
        if sim is None:
            return self._real().wait(timeout)
        if not self._is_owned():
            raise RuntimeError("cannot wait on un-acquired lock")
        self._waiters.append((me, sim.prepare(me)))
        saved = self._release_save()
        try:
            reason = sim.block(me, self, _deadline(sim, timeout))
        finally:
            self._acquire_restore(saved)
        return reason == "notify"

    def wait_for(self, predicate: Any, timeout: Optional[float] = None) -> Any:
        endtime = None
        waittime = timeout
        result = predicate()
        while not result:
            if waittime is not None:
                if endtime is None:
                    endtime = monotonic() + waittime
                else:
                    waittime = endtime - monotonic()
                    if waittime <= 0:
                        break
            self.wait(waittime)
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        sim, _ = managed()
        if sim is None:
            return self._real().notify(n)
        if not self._is_owned():
            raise RuntimeError("cannot notify on un-acquired lock")
        woken = 0
        waiters = self._waiters
        while waiters and woken < n:
            rec, seq = waiters.popleft()
            if rec.seq == seq and not rec.runnable and not rec.done:
                sim.wake(rec)
                woken += 1

    def notify_all(self) -> None:
        self.notify(len(self._waiters) or 1)

    notifyAll = notify_all  # noqa: N815 (threading's old name)

    def _labsim_describe(self, sim: Any) -> str:
        return f"Condition at {id(self):#x} (a notify)"


# --- queue.SimpleQueue ------------------------------------------------------------------


class SimpleQueue:
    """queue.SimpleQueue (unbounded FIFO) under the simulation."""

    def __init__(self) -> None:
        self._items: Deque[Any] = deque()
        self._cond = Condition(Lock())

    def put(self, item: Any, block: bool = True, timeout: Optional[float] = None) -> None:
        with self._cond:
            self._items.append(item)
            self._cond.notify()

    put_nowait = put

    def get(self, block: bool = True, timeout: Optional[float] = None) -> Any:
        if timeout is not None and timeout < 0:
            raise ValueError("'timeout' must be a non-negative number")
        with self._cond:
            if not block:
                if not self._items:
                    raise Empty
                return self._items.popleft()
            if timeout is None:
                while not self._items:
                    self._cond.wait()
            else:
                end = monotonic() + timeout
                while not self._items:
                    remaining = end - monotonic()
                    if remaining <= 0:
                        raise Empty
                    self._cond.wait(remaining)
            return self._items.popleft()

    def get_nowait(self) -> Any:
        return self.get(False)

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)


# --- threading.Thread -------------------------------------------------------------------


class _StartedFlag:
    """Thread._started for a thread started under the simulation: set from
    the start, since the thread counts as started once it is scheduled."""

    def is_set(self) -> bool:
        return True

    def set(self) -> None:
        pass

    def clear(self) -> None:
        pass

    def wait(self, timeout: Optional[float] = None) -> bool:
        return True


def thread_start(self: threading.Thread) -> None:
    sim, me = managed()
    if sim is None:
        return real_thread_start(self)
    if self.__dict__.get("_labsim_rec") is not None or (
            getattr(self, "_started", None) is not None and self._started.is_set()):
        raise RuntimeError("threads can only be started once")
    worker = pool.take()
    # The worker waits on its lock: that lock is the thread's baton, so its
    # first turn wakes the worker straight into the thread's run().
    try:
        rec = sim.spawn(self, worker.lock, worker.ident)
    except BaseException:  # too many threads: the run fails, the worker stays idle
        pool.give_back(worker)
        raise
    self._labsim_rec = rec
    self._ident = worker.ident
    if hasattr(self, "_native_id"):
        self._native_id = worker.native_id
    self._started = _StartedFlag()
    with threading._active_limbo_lock:  # type: ignore[attr-defined]
        threading._active[worker.ident] = self  # type: ignore[attr-defined]
    worker.job = lambda: _run_started(sim, rec, self)
    sim.sync("start", started=rec)


def _run_started(sim: Any, rec: Any, thread: threading.Thread) -> None:
    """A started thread's life on its pool worker (which holds its baton)."""
    try:
        sim._after_wake(rec)
        thread.run()
    except SimKilled:
        pass
    except SimFailure as failure:
        # Only the watchdog raises a failure outside the test's thread.
        if rec.parked:
            sim._forever.acquire()  # taken out of the run meanwhile
        sim.fail(failure)
    except BaseException:
        # Report it while this thread still holds the baton (pytest turns it
        # into a failure of the test), then let the thread end quietly.
        try:
            thread._invoke_excepthook(thread)  # type: ignore[attr-defined]
        except (SimKilled, SimFailure):
            pass
    finally:
        # What threading's bootstrap does when run() returns, before the
        # baton moves on: the thread leaves threading's table.
        with threading._active_limbo_lock:  # type: ignore[attr-defined]
            if threading._active.get(rec.ident) is thread:  # type: ignore[attr-defined]
                del threading._active[rec.ident]  # type: ignore[attr-defined]
        if hasattr(thread, "_is_stopped"):
            thread._is_stopped = True  # type: ignore[attr-defined]
        try:
            sim.finish(rec)
        except (SimKilled, SimFailure):
            pass


def _record_of(thread: threading.Thread) -> Any:
    return thread.__dict__.get("_labsim_rec")


def thread_is_alive(self: threading.Thread) -> bool:
    rec = _record_of(self)
    if rec is None:
        return real_thread_is_alive(self)
    return not rec.done


def thread_join(self: threading.Thread, timeout: Optional[float] = None) -> None:
    rec = _record_of(self)
    sim, me = managed()
    if rec is None:
        return real_thread_join(self, timeout)
    if sim is None:
        # A simulated thread joined from outside the run (it has no OS thread
        # of its own to join): watch its record in real time.
        end = None if timeout is None else real_monotonic() + max(0.0, timeout)
        while not rec.done and (end is None or real_monotonic() < end):
            real_sleep(0.001)
        return None
    if rec is me:
        raise RuntimeError("cannot join current thread")
    sim.sync("join")
    deadline = _deadline(sim, timeout)
    while not rec.done:
        if deadline is not None and sim.clock.elapsed >= deadline:
            return None
        rec.joiners.append((me, sim.prepare(me)))
        sim.block(me, f"thread {rec.name} to end (join)", deadline)
    return None
