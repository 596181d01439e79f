"""The real-time watchdog: turns an escape into a failure, never a hang.

An escape is a thread holding the baton that reaches no synchronisation
point for `limit` real seconds: a pure-Python busy loop, or a block the
simulator does not know (a C-level wait, a lock made before patching,
input()). One daemon thread per process checks the running simulation:

  after limit s    raise SimEscape in the stuck thread (asynchronously;
                   a Python loop stops at its next bytecode)
  after 2 x limit  the thread is blocked in C: take it out of the run
                   (parked for good), fail the test, run the others; if
                   the stuck thread is the test's own, print the report and
                   end the process (exit status 3), since nothing else can
"""

from __future__ import annotations

import _thread
import ctypes
import os
import sys
from typing import Any, Optional

from labsim import core, reports
from labsim.errors import SimEscape
from labsim.primitives import real_monotonic, real_sleep

DEFAULT_LIMIT_S = 10.0
POLL_S = 0.25

_started = False
limit_s = DEFAULT_LIMIT_S


def ensure_running(limit: Optional[float] = None) -> None:
    global _started, limit_s
    if limit is not None:
        if limit <= 0:
            raise ValueError(f"watchdog limit must be > 0 s, got {limit!r}")
        limit_s = limit
    if not _started:
        _started = True
        _thread.start_new_thread(_watch, ())


def _escape_class(report: str) -> type:
    return type("SimEscape", (SimEscape,), {"report": report})


def _raise_in(ident: int, exc_type: type) -> bool:
    done = ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident),
                                                      ctypes.py_object(exc_type))
    return done == 1


def _watch() -> None:
    last_sim: Any = None
    last_steps = -1
    since = real_monotonic()
    stage = 0
    while True:
        real_sleep(POLL_S)
        sim = core._ACTIVE
        now = real_monotonic()
        if sim is not last_sim or sim is None or sim.steps != last_steps:
            last_sim, last_steps, since, stage = sim, (sim.steps if sim else -1), now, 0
            continue
        stuck = sim.current
        if stuck is None or stuck.ident is None:
            continue
        if stage == 0 and now - since > limit_s:
            stage = 1
            report = reports.threads_report(
                sim, f"escape: thread {stuck.name} ran {limit_s:.0f} s of real time without "
                     "reaching a synchronisation point (a busy loop that never waits, or a "
                     "block the simulator cannot see)")
            _raise_in(stuck.ident, _escape_class(report + sim._hint()))
        elif stage == 1 and now - since > 2 * limit_s:
            stage = 2
            report = reports.threads_report(
                sim, f"escape: thread {stuck.name} is blocked outside the simulator's view "
                     f"for {2 * limit_s:.0f} s of real time (a C-level wait, or a lock made "
                     "before the simulation was installed); it is taken out of the run")
            if stuck is sim.main:
                sys.stderr.write("\nlabsim: " + report + sim._hint() + "\n")
                sys.stderr.flush()
                os._exit(3)
            _detach(sim, stuck, report)


def _detach(sim: Any, stuck: Any, report: str) -> None:
    stuck.parked = True
    sim.notes.append(f"thread {stuck.name} was taken out of the run by the watchdog")
    main = sim.main
    failure = SimEscape(report + sim._hint())
    if sim.failure is None:
        sim.failure = failure
    main.pending = failure
    stuck.done = True
    stuck.runnable = False
    if stuck in sim.runnable:
        sim.runnable.remove(stuck)
    sim.live -= 1
    if not main.runnable:
        sim._make_runnable(main, "fail")
    sim._run_next(None)
