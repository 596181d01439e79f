"""The harness's calls into a peer, bounded: one that does not return fails the test.

    rf = BoundedPeer(peer, "S0", t)   -- what the harness hands the tests
                                         (cfg.rafts[i]): GetState, Start,
                                         Snapshot and Kill are bounded calls;
                                         everything else is the peer's own
    result = bounded(t, "S0's Make()", fn, *args)   -- one bounded call
    CALL_LIMIT_S                      -- how long a call may take

In Go a call that blocks hangs the test until its timeout, and every call
after it (the cleanup's Kill) may hang the same way. Here a bounded call
ends two ways:
  - it waits for a peer's lock that a blocked thread holds (the lock
    watchdog, labtest.lockwatch, in real or virtual time): the wait raises
    after LOCK_WAIT_S and the test fails with the watchdog's report;
  - it is blocked elsewhere (a join, a Condition, a Make that never
    returns) for CALL_LIMIT_S of real time, counted as the lock watchdog
    counts (a loaded machine's stops of the whole process do not count):
    a watchdog thread reports it
    with t.fail_later, naming where the call is and what it waits for, and
    interrupts the call if it runs on the main thread (a signal; a call on
    another thread cannot be interrupted, and the test fails at the
    harness's next check). Under --sim the simulation's own checks (its
    deadlock report, its virtual time limit) do this.
Either way the failure is raised in the calling thread through t.Fatal, so
a failure kept from another thread earlier is named first.
"""

from __future__ import annotations

import _thread
import signal
import threading
import traceback
from typing import Any, Callable, Dict, Optional, Tuple

import labsim
from labtest import hangs, lockwatch, threadview
from labsim.primitives import real_monotonic, real_sleep
from labtest.testing import T
from racecheck.guards import Forwarding

# A call into a peer takes microseconds; one still running after this long
# in real time is blocked (a lock it waits for is reported sooner).
CALL_LIMIT_S = 10.0
# How the call watchdog's reports begin.
REPORT_START = "call watchdog:"
POLL_S = 0.5

# The signal that interrupts a blocked call on the main thread.
_INTERRUPT = getattr(signal, "SIGUSR1", None)

# A report for the main thread's blocked call, raised by the signal handler.
_interrupts: Dict[int, str] = {}
_watching = False
_handler_tried = False
_handler_installed = False


def bounded(t: T, what: str, fn: Callable[..., Any], *args: Any) -> Any:
    """fn(*args) as a call of the harness into a peer (see the module docstring)."""
    ident = _thread.get_ident()
    outer = lockwatch.calling(ident, what, t)
    if not _watching:
        _start_watching()
    if not _handler_tried and ident == threading.main_thread().ident:
        _install_interrupt()
    try:
        return fn(*args)
    except lockwatch.PeerCallStuck as stuck:
        message = str(stuck)
        earlier = t.later_failure()
        if earlier is not None and earlier.startswith(lockwatch.REPORT_START):
            message = earlier  # the same deadlock, seen from another lock first
    finally:
        lockwatch.done(ident, outer)
    t.Fatal(message)  # outside the except: the failure is this, not a chain of two
    raise AssertionError(message)  # (Fatal raises)


class BoundedPeer(Forwarding):
    """A peer whose tester-facing methods are bounded calls (see bounded)."""

    __slots__ = ("_t", "_names")

    def __init__(self, peer: Any, label: str, t: T) -> None:
        super().__init__(peer)
        object.__setattr__(self, "_t", t)
        # What each call is called in reports (made once: GetState is called in loops).
        object.__setattr__(self, "_names", {
            method: f"{label}.{method}({shown})" for method, shown in (
                ("GetState", ""), ("Start", "..."), ("Snapshot", "..."), ("Kill", ""))})

    def _call(self, method: str, *args: Any) -> Any:
        peer = object.__getattribute__(self, "_wrapped")
        return bounded(object.__getattribute__(self, "_t"),
                       object.__getattribute__(self, "_names")[method],
                       getattr(peer, method), *args)

    def GetState(self) -> Any:
        return self._call("GetState")

    def Start(self, command: Any) -> Any:
        return self._call("Start", command)

    def Snapshot(self, index: Any, snapshot: Any) -> Any:
        return self._call("Snapshot", index, snapshot)

    def Kill(self) -> Any:
        return self._call("Kill")

    def unwrapped(self) -> Any:
        """The peer itself (what labrpc serves)."""
        return object.__getattribute__(self, "_wrapped")


# --- the watchdog of calls blocked elsewhere than on a lock ----------------------------


def _start_watching() -> None:
    global _watching
    _watching = True
    # A raw thread: never one of a simulation's, nor one a test's leak check sees.
    _thread.start_new_thread(_watch, ())


def _install_interrupt() -> None:
    """From the main thread: the handler that interrupts its blocked call (once;
    not over a handler someone else installed)."""
    global _handler_tried, _handler_installed
    _handler_tried = True
    if _INTERRUPT is not None and signal.getsignal(_INTERRUPT) in (signal.SIG_DFL, None):
        signal.signal(_INTERRUPT, _on_interrupt)
        _handler_installed = True


def _on_interrupt(signum: int, frame: Any) -> None:
    main = threading.main_thread().ident
    report = _interrupts.pop(main or 0, None)
    if report is not None and lockwatch.harness_call(main) is not None:
        raise lockwatch.PeerCallStuck(report)


def _watch() -> None:
    # Each running call's time, as this thread has seen it pass (lockwatch.Waited).
    seen: Dict[Tuple[int, float], lockwatch.Waited] = {}
    reported: set = set()
    while True:
        real_sleep(POLL_S)
        if labsim.active() is not None:
            seen.clear()
            continue  # the simulation's checks bound its calls, in virtual time
        try:
            _look(seen, reported)
        except Exception:
            # A bug here must not end the watchdog, nor go unseen.
            traceback.print_exc()


def _look(seen: Dict[Tuple[int, float], lockwatch.Waited], reported: set) -> None:
    now = real_monotonic()
    calls = lockwatch.harness_calls()
    for key in [key for key in seen if calls.get(key[0], (0, None))[1] != key[1]]:
        del seen[key]  # calls that returned
    for ident, (what, since, t) in calls.items():
        key = (ident, since)
        waited = seen.setdefault(key, lockwatch.Waited(max(since, now - POLL_S), POLL_S))
        if waited.tick(now) < CALL_LIMIT_S or key in reported:
            continue
        if lockwatch.waiting_for(ident) is not None:
            continue  # waiting for a watched lock: the lock watchdog reports it
        reported.add(key)
        report = call_report(ident, what, now - since)
        if t is not None:
            t.fail_later(report)
        if ident == threading.main_thread().ident and _handler_installed:
            _interrupts[ident] = report
            signal.pthread_kill(ident, _INTERRUPT)


def _joined_thread(frame: Any) -> Optional[threading.Thread]:
    """The thread a join in this stack waits for, if it is one."""
    while frame is not None:
        if frame.f_code.co_name in ("join", "thread_join", "_wait_for_tstate_lock"):
            joined = frame.f_locals.get("self")
            if isinstance(joined, threading.Thread):
                return joined
        frame = frame.f_back
    return None


def call_report(ident: int, what: str, waited: float) -> str:
    """A call of the harness that has not returned: where it is, and why."""
    name = threadview.name_of(ident)
    lines = [f"{REPORT_START} the tester's call {what} has not returned after "
             f"{waited:.0f} s: {name} is {lockwatch.situation(ident)}. A peer's GetState, Start, "
             "Snapshot and Kill must return at once, and Make must start the peer's "
             "threads and return."]
    joined = _joined_thread(threadview.frame_of(ident))
    if joined is not None and joined.ident is not None:
        lines.append(f"  {joined.name}, which it waits for, is "
                     f"{lockwatch.situation(joined.ident)}")
    lines.append(f"  {name} is here:")
    lines.extend(threadview.short_stack(threadview.frame_of(ident)))
    lines.append("The threads of the peers and the tester, by what they wait for:")
    lines.extend(hangs.grouped_threads())
    return "\n".join(lines)
