"""What a simulated run raises: failures of the test, and the stop of a thread.

    SimFailure      the run failed (deadlock, busy loop, time limit, escape,
                    too many threads); raised in the test's own thread, so
                    pytest reports it with its message
    SimKilled       stops a thread that outlives its test, at its next
                    synchronisation point

Both derive from BaseException, not Exception: a student's
`except Exception:` must not swallow them (a bare `except:` can; the
scheduler then raises again at the thread's next synchronisation point).
"""

from __future__ import annotations


class SimFailure(BaseException):
    """The simulated run failed; the message is the report."""

    report = ""  # the watchdog raises a subclass carrying it (no arguments)

    def __str__(self) -> str:
        return super().__str__() or self.report


class SimDeadlock(SimFailure):
    """Every thread waits and no timer is pending."""


class SimBusyLoop(SimFailure):
    """A thread ran too long without waiting for anything."""


class SimTimeLimit(SimFailure):
    """The test ran past its limit in virtual time."""


class SimEscape(SimFailure):
    """A thread blocked, or computed, outside the simulator's view."""


class SimTooManyThreads(SimFailure):
    """More threads alive at once than the simulator allows."""


class SimKilled(BaseException):
    """Stops a thread that is still running when its test ends."""
