"""The scheduler core: one managed thread runs at a time.

Every managed thread is a real OS thread parked on its own raw lock (its
baton). At a synchronisation point the running thread asks the strategy
for the next thread, releases that thread's baton and blocks on its own;
no scheduler thread exists. When no thread can run, the virtual clock
jumps to the earliest deadline; with no deadline either, the run is
deadlocked and the test's thread is woken with the report.

    sim = Simulation(seed, strategy="random")   (choices=stream: every choice of
                          the run passes through a labsim.choices.ChoiceStream)
    sim.adopt()           the calling thread (the test's) becomes managed
    ...                   patched primitives call sync/block/wake below
    sim.shutdown()        stop the threads left, release the calling thread

The primitives (labsim.primitives) use:
    sim.sync(what[, started])      a point where another thread may run
                                   (started: the thread just started here)
    seq = sim.prepare(me)          then register (me, seq) as a waiter
    reason = sim.block(me, what, deadline)   "notify", "timeout"
    sim.wake(rec)                  make a waiter runnable
"""

from __future__ import annotations

import _thread
import gc
import heapq
import os
import random
import sys
from bisect import insort
from typing import Any, Dict, List, Optional, Tuple

from labsim import reports
from labsim.clock import VirtualClock
from labsim.errors import (SimBusyLoop, SimDeadlock, SimFailure, SimKilled,
                           SimTimeLimit, SimTooManyThreads)
from labsim.strategies import DEFAULT_PERTURB_S, make_strategy

# A thread that passes this many synchronisation points in a row without
# ever waiting (a lock taken at once, a sleep(0)) is in a busy loop.
# (The harness's own loops run tens of thousands of points without waiting:
# churn's final check calls nCommitted for each of ~3000 entries.)
BUSY_STEPS = 1_000_000
# After the time limit, the test's thread is stopped again every this many
# virtual seconds until it ends (its cleanup may wait on what stalled it).
TIME_LIMIT_GRACE_S = 10.0
# More live threads than this at once fail the run.
MAX_THREADS = 2000
# A thread that swallows the stop this many times is parked for good.
KILL_ATTEMPTS = 100

_ACTIVE: Optional["Simulation"] = None
_OWN_FILES = ("labsim/core.py", "labsim/primitives.py", "labsim/pool.py", "threading.py",
              "queue.py")


def active() -> Optional["Simulation"]:
    """The simulation running in this process, if any."""
    return _ACTIVE


class SimThread:
    """The scheduler's record of one managed thread."""

    __slots__ = ("order", "name", "thread", "ident", "baton", "runnable", "done",
                 "waiting_for", "deadline", "reason", "seq", "awake_steps", "killed",
                 "kills", "parked", "pending", "joiners", "waits", "ready_at")

    def __init__(self, order: int, name: str, thread: Any, baton: Any, ident: int) -> None:
        self.order = order
        self.name = name
        self.thread = thread
        self.ident = ident
        # A raw lock, held while the thread may not run: its turn releases it.
        self.baton = baton
        self.runnable = True
        self.done = False
        self.waiting_for: Any = None
        self.deadline: Optional[float] = None
        self.reason = ""
        self.seq = 0
        self.awake_steps = 0
        self.killed = False
        self.kills = 0
        self.parked = False
        self.pending: Optional[BaseException] = None
        self.joiners: List[Tuple["SimThread", int]] = []
        # The waits it has begun (with awake_steps, names its choices), and
        # the step it last became runnable at (a run queue's order).
        self.waits = 0
        self.ready_at = 0

    def __repr__(self) -> str:
        return f"<SimThread {self.order} {self.name}>"


def _by_order(rec: SimThread) -> int:
    return rec.order


class Simulation:
    def __init__(self, seed: int, strategy: str = "random",
                 perturb_s: float = DEFAULT_PERTURB_S, step_cost: Optional[float] = None,
                 time_limit: Optional[float] = None, busy_steps: int = BUSY_STEPS,
                 max_threads: int = MAX_THREADS, trace: bool = False,
                 replay_hint: str = "", choices: Optional[Any] = None) -> None:
        if not isinstance(seed, int):
            raise TypeError(f"simulation seed must be an int, got {seed!r}")
        self.seed = seed
        self.clock = VirtualClock() if step_cost is None else VirtualClock(step_cost)
        self.strategy = make_strategy(strategy, seed, perturb_s, self.clock.step_cost)
        self.time_limit = time_limit
        self.busy_steps = busy_steps
        self.max_threads = max_threads
        self.replay_hint = replay_hint
        self.records: List[SimThread] = []
        self.by_ident: Dict[int, SimThread] = {}
        self.runnable: List[SimThread] = []
        self.timers: List[Tuple[float, int, int, SimThread, str]] = []
        self.current: Optional[SimThread] = None
        self.main: Optional[SimThread] = None
        self.steps = 0
        self.switches = 0
        self.live = 0
        self.failure: Optional[SimFailure] = None
        self.notes: List[str] = []
        self.stopping = False
        self.trace: Optional[List[Tuple[int, str, int]]] = [] if trace else None
        # A labsim.choices.ChoiceStream that sees (and may edit) every choice.
        self.choices = choices
        if choices is not None:
            choices.begin(self)
        self._random_state: Any = None
        self._affinity: Optional[Any] = None
        self._gc_was_enabled = False
        self._forever = _thread.allocate_lock()
        self._forever.acquire()

    # --- life of the run ----------------------------------------------------------

    def adopt(self, name: str = "test") -> SimThread:
        """Make the calling thread the run's first (the test's) thread."""
        global _ACTIVE
        if _ACTIVE is not None:
            raise RuntimeError("a simulation is already running in this process")
        baton = _thread.allocate_lock()
        baton.acquire()
        rec = self._record(name, None, baton, _thread.get_ident())
        self.main = self.current = rec
        self._random_state = random.getstate()
        random.seed(self.seed)
        # Finalizers run by the cyclic collector could take locks at moments
        # that differ between runs; collect only between runs.
        self._gc_was_enabled = gc.isenabled()
        _freeze_the_heap_once()
        gc.disable()
        self._affinity = _pin_to_this_cpu()
        _ACTIVE = self
        return rec

    def shutdown(self) -> None:
        """Stop every thread still running (SimKilled), then leave the run."""
        global _ACTIVE
        me = self.main
        assert me is not None and self.current is me, "shutdown from the test's thread"
        self.stopping = True
        me.pending = None
        for rec in list(self.records):
            if rec is me or rec.done:
                continue
            rec.killed = True
            if not rec.runnable:
                self._make_runnable(rec, "kill")
        while self.live > 1:
            self.prepare(me)
            me.runnable = False
            self.runnable.remove(me)
            me.waiting_for = "the other threads to stop"
            self._run_next(me)
        _ACTIVE = None
        self.current = None
        # The records outlive the run (reports, the trace check); what they
        # point to must not, or the run's whole world (peers, logs) would
        # survive the young collection below into the old generation.
        for rec in self.records:
            rec.thread = rec.waiting_for = rec.pending = None
            rec.joiners = []
        self.timers = []
        if self._random_state is not None:
            random.setstate(self._random_state)
        if self._gc_was_enabled:
            gc.enable()
        # Only what was made since the first run is scanned (see
        # _freeze_the_heap_once): about a millisecond, where a collection of
        # pytest's whole heap took 19 ms, a quarter of a 2A test's run.
        gc.collect()
        if self._affinity is not None:
            os.sched_setaffinity(0, self._affinity)

    def _record(self, name: str, thread: Any, baton: Any, ident: int) -> SimThread:
        rec = SimThread(len(self.records), name, thread, baton, ident)
        rec.ready_at = self.steps
        self.records.append(rec)
        self.by_ident[ident] = rec
        insort(self.runnable, rec, key=_by_order)
        self.live += 1
        self.strategy.spawned(rec)
        if self.choices is not None:
            self.choices.spawned(rec)
        return rec

    # --- threads ----------------------------------------------------------------------

    def spawn(self, thread: Any, baton: Any, ident: int) -> SimThread:
        """Record a thread the current one is starting; it runs when picked,
        on the OS thread ident, which waits on baton (held) for its turn."""
        if self.live >= self.max_threads:
            me = self.current
            self.fail(SimTooManyThreads(
                f"more than {self.max_threads} threads alive at once (the last one "
                f"started: {thread.name}, by {me.name}); is a thread started in a loop?"
                + self._hint()))
            me.killed = True
            self._deliver(me)
        return self._record(thread.name, thread, baton, ident)

    def finish(self, rec: SimThread) -> None:
        """Called by a thread whose run() has returned; passes the baton on."""
        rec.done = True
        rec.runnable = False
        if rec in self.runnable:
            self.runnable.remove(rec)
        self.live -= 1
        for joiner, seq in rec.joiners:
            if joiner.seq == seq and not joiner.runnable:
                self._make_runnable(joiner, "notify")
        rec.joiners = []
        if self.stopping and self.live <= 1 and self.main is not None \
                and not self.main.runnable:
            self._make_runnable(self.main, "notify")
        self._run_next(None)

    def park(self, rec: SimThread) -> None:
        """Take a thread that will not stop out of the run, for good."""
        rec.parked = True
        self.notes.append(f"thread {rec.name} caught the simulator's stop "
                          f"{rec.kills} times; parked for the rest of the process")
        self.finish(rec)  # (it is not really done, but it never runs again)
        self._forever.acquire()

    # --- scheduling points ------------------------------------------------------------

    def sync(self, what: Any, started: Optional[SimThread] = None) -> None:
        """A synchronisation point: charge a step, maybe let another thread run.

        started: the thread this one has just started (at a thread start).
        """
        me = self.current
        self.steps += 1
        clock = self.clock
        clock.elapsed += clock.step_cost
        me.awake_steps += 1
        if me.killed or me.pending is not None:
            self._deliver(me)
        if me.awake_steps > self.busy_steps:
            self._busy(me)
        if self.trace is not None:
            self._record_event(me, what)
        if self.timers and self.timers[0][0] <= clock.elapsed:
            self._fire_timers()
        if self.time_limit is not None and clock.elapsed > self.time_limit:
            self._time_up()
        runnable = self.runnable
        if len(runnable) > 1:
            nxt = self.strategy.pick(runnable, self.steps, me, started)
            if self.choices is not None:
                nxt = self.choices.switch(me, nxt, runnable, what)
            if nxt is not me:
                self.switches += 1
                self.current = nxt
                nxt.baton.release()
                me.baton.acquire()
                self._after_wake(me)

    def prepare(self, me: SimThread) -> int:
        """A new wait's number: waiter lists keep (thread, number) pairs."""
        if me.killed or me.pending is not None:
            self._deliver(me)
        me.seq += 1
        return me.seq

    def block(self, me: SimThread, what: Any, deadline: Optional[float] = None) -> str:
        """Wait (after prepare) until woken or until deadline (elapsed s)."""
        self.steps += 1
        me.awake_steps = 0
        me.waits += 1
        me.runnable = False
        self.runnable.remove(me)
        me.waiting_for = what
        me.reason = ""
        if deadline is not None:
            late = self.strategy.timer_late_by()
            if self.choices is not None:
                late = self.choices.timer(me, late)
            deadline += late
            me.deadline = deadline
            heapq.heappush(self.timers, (deadline, me.order, me.seq, me, "timeout"))
        else:
            me.deadline = None
        if self.trace is not None:
            self._record_event(me, what, "waits: ")
        self._run_next(me)
        return me.reason

    def wake(self, rec: SimThread) -> None:
        """Make a waiting thread runnable (perhaps a little later)."""
        late = self.strategy.late_by()
        if self.choices is not None:
            late = self.choices.late(rec, late)
        if late:
            rec.seq += 1  # the old deadline, if any, no longer counts
            heapq.heappush(self.timers, (self.clock.elapsed + late, rec.order, rec.seq,
                                         rec, "notify"))
            rec.waiting_for = ("woken, running a little late", rec.waiting_for)
        else:
            self._make_runnable(rec, "notify")

    def _make_runnable(self, rec: SimThread, reason: str) -> None:
        rec.seq += 1
        rec.runnable = True
        rec.reason = reason
        rec.waiting_for = None
        rec.deadline = None
        rec.ready_at = self.steps
        insort(self.runnable, rec, key=_by_order)

    def _fire_timers(self) -> None:
        timers = self.timers
        now = self.clock.elapsed
        while timers and timers[0][0] <= now:
            _, _, seq, rec, reason = heapq.heappop(timers)
            if rec.seq == seq and not rec.runnable and not rec.done:
                self._make_runnable(rec, reason)

    def _run_next(self, me: Optional[SimThread]) -> None:
        """me has stopped being runnable (or finished): hand over the baton."""
        while not self.runnable:
            if self.timers:
                deadline = self.timers[0][0]
                if deadline > self.clock.elapsed:
                    self.clock.elapsed = deadline
                self._fire_timers()
                if self.time_limit is not None and self.clock.elapsed > self.time_limit:
                    self._time_up()
            else:
                self._deadlock()
        nxt = self.strategy.pick(self.runnable, self.steps)
        if self.choices is not None:
            nxt = self.choices.pick(self.current, nxt, self.runnable)
        self.current = nxt
        if nxt is me:
            self._after_wake(me)
            return
        self.switches += 1
        nxt.baton.release()
        if me is not None:
            me.baton.acquire()
            self._after_wake(me)

    def _after_wake(self, me: SimThread) -> None:
        if me.parked:
            self._forever.acquire()
        if me.killed or me.pending is not None:
            self._deliver(me)

    def _deliver(self, me: SimThread) -> None:
        """Raise in me what it has been sent: the run's failure, or the stop."""
        if me.pending is not None:
            failure, me.pending = me.pending, None
            raise failure
        if me.killed:
            me.kills += 1
            if me.kills >= KILL_ATTEMPTS:
                self.park(me)
            raise SimKilled(f"{me.name} stopped: its test is over")

    # --- failures ---------------------------------------------------------------------

    def fail(self, failure: SimFailure) -> None:
        """Fail the run: raise failure in the test's thread (now or when it runs)."""
        if self.failure is None:
            self.failure = failure
        main = self.main
        if main is None or main.done:
            return
        main.pending = failure
        if self.current is main and main.ident == _thread.get_ident():
            main.pending = None
            raise failure
        if not main.runnable:
            self._make_runnable(main, "fail")

    def _hint(self) -> str:
        return f"\n{self.replay_hint}" if self.replay_hint else ""

    def _deadlock(self) -> None:
        report = reports.threads_report(self, "deadlock: every thread waits and no "
                                              "timer is pending")
        failure = SimDeadlock(report + self._hint())
        main = self.main
        if self.stopping or main is None or main.done or main.runnable:
            # Nobody to tell (the run is being stopped): stop everyone else.
            for rec in self.records:
                if not rec.done and not rec.runnable:
                    if rec is main:
                        self._make_runnable(rec, "notify")
                    else:
                        rec.killed = True
                        self._make_runnable(rec, "kill")
            return
        if self.failure is None:
            self.failure = failure
        main.pending = failure
        self._make_runnable(main, "fail")

    def _busy(self, me: SimThread) -> None:
        me.awake_steps = 0
        failure = SimBusyLoop(
            f"busy loop: thread {me.name} passed {self.busy_steps} synchronisation points "
            "in a row without ever waiting (no sleep, no blocking wait); it is stopped\n"
            + reports.threads_report(self, "threads:") + self._hint())
        if me is self.main:
            self.fail(failure)
        else:
            me.killed = True
            self.fail(failure)
            self._deliver(me)

    def _time_up(self) -> None:
        limit = self.time_limit
        # Again after a grace: the test's cleanup may hang on the same cause.
        self.time_limit = self.clock.elapsed + TIME_LIMIT_GRACE_S
        self.fail(SimTimeLimit(
            f"the test ran past its limit ({limit:.0f} s of virtual time)\n"
            + reports.threads_report(self, "threads:") + self._hint()))

    def _record_event(self, me: SimThread, what: Any, prefix: str = "") -> None:
        kind = what if isinstance(what, str) else type(what).__name__
        frame = sys._getframe(2)
        while frame is not None and frame.f_code.co_filename.endswith(_OWN_FILES):
            frame = frame.f_back
        where = "?" if frame is None else \
            f"{frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.f_lineno}"
        self.trace.append((me.order, f"{prefix}{kind} ({where})",
                           int(self.clock.elapsed * 1e6)))

    # --- questions --------------------------------------------------------------------

    def name_of(self, ident: Optional[int]) -> str:
        rec = self.by_ident.get(ident) if ident is not None else None
        return rec.name if rec is not None else f"an unmanaged thread ({ident})"


_heap_frozen = False


def _freeze_the_heap_once() -> None:
    """Move everything alive before the process's first run (pytest, the
    modules) out of the collector's sight, once: the full collection after
    each run then scans only what the runs made. (A run's world must be
    collected fully: the item that made it keeps it until the next run, by
    which time a young collection would have aged it.)"""
    global _heap_frozen
    if not _heap_frozen:
        _heap_frozen = True
        gc.collect()
        gc.freeze()


def _pin_to_this_cpu() -> Optional[Any]:
    """Keep the run's threads on one CPU: one runs at a time, and a hand-off
    between threads on two CPUs costs several times one on the same CPU.
    Returns the mask to restore (None if nothing was changed)."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    allowed = os.sched_getaffinity(0)
    if len(allowed) <= 1:
        return None
    try:
        with open("/proc/thread-self/stat") as stat:
            cpu = int(stat.read().rsplit(")", 1)[1].split()[36])
    except (OSError, IndexError, ValueError):
        cpu = min(allowed)
    os.sched_setaffinity(0, {cpu if cpu in allowed else min(allowed)})
    return allowed


def managed() -> Tuple[Optional[Simulation], Optional[SimThread]]:
    """(sim, me) when the calling thread runs under a simulation, else (None, None)."""
    sim = _ACTIVE
    if sim is not None:
        me = sim.current
        ident = _thread.get_ident()
        if me is not None and me.ident == ident:
            return sim, me
        rec = sim.by_ident.get(ident)
        if rec is not None and rec.parked:
            # Taken out of the run by the watchdog: it must never run again.
            sim._forever.acquire()
    return None, None
