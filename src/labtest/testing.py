"""T: the harness's handle on one test, Python's twin of Go's *testing.T.

The harness (config) calls t.Fatalf to fail a test, as config.go does. In
Python that raises TestFailure in the calling thread. A failure noticed on
another thread (an applyCh reader, a fatal labrpc error) cannot raise in the
test's thread, so it is kept with fail_later() and raised by the harness's
next check in the test thread (check_later_failures()).

threads_left(before, grace_s) gives the threads a test left running.
"""

from __future__ import annotations

import threading
import time
import traceback
from typing import Any, Callable, Collection, List, Optional

# pytest leaves this module's frames out of a failure's traceback: the
# test's line that failed is the news, not how T raised (--fulltrace shows them).
__tracebackhide__ = True

# How many T were made in this process: a test that made one used the
# harness (labtest.lab_tests), since every harness Config takes one. (A list
# changed in place: the grader checks that no name of this module is rebound.)
_made_mu = threading.Lock()
_made = [0]


def handles_made() -> int:
    """How many T were made in this process so far."""
    return _made[0]


class TestFailure(AssertionError):
    """A test failed; the message says why, in the Go tester's words."""

    __test__ = False  # not a test class, whatever its name says


class T:
    """One running test."""

    __test__ = False

    def __init__(self, name: str = "", echo: bool = True) -> None:
        with _made_mu:
            _made[0] += 1
        self.name = name
        self.output: List[str] = []
        self._echo = echo
        self._mu = threading.Lock()
        self._failed = False
        self._later: List[str] = []
        self._catch_up: List[Callable[[], None]] = []

    def Fatalf(self, format: str, *args: Any) -> None:
        """Fail the test now (printf-style, like Go's; %v is not Python's: use %s)."""
        self.Fatal(format % args if args else format)

    def before_reading_failures(self, fn: Callable[[], None]) -> None:
        """Call fn() whenever the test looks for failures kept from other
        threads (at Fatal, and at check_later_failures), before it looks.

        The harness flushes the monitors' batch there: a broken rule is then
        raised at the harness's next check, and named first, as the cause,
        when a Go check fails.
        """
        with self._mu:
            self._catch_up.append(fn)

    def _let_others_catch_up(self) -> None:
        with self._mu:
            hooks = list(self._catch_up)
        for fn in hooks:
            fn()

    def Fatal(self, message: str) -> None:
        self._let_others_catch_up()
        with self._mu:
            self._failed = True
            # A failure kept from another thread came first: it is the cause.
            earlier = self._later[0] if self._later else None
        if earlier is not None and earlier != message:
            message = f"{earlier}\n(then: {message})"
        raise TestFailure(message)

    def Failed(self) -> bool:
        with self._mu:
            return self._failed

    def Log(self, line: str) -> None:
        """Print a line of the test's report (begin/Passed lines) and keep it."""
        with self._mu:
            self.output.append(line)
        if self._echo:
            print(line, flush=True)

    def fail_later(self, message: str) -> None:
        """Record a failure seen on another thread."""
        with self._mu:
            self._failed = True
            self._later.append(message)

    def later_failure(self) -> Optional[str]:
        with self._mu:
            return self._later[0] if self._later else None

    def go(self, fn: Callable[..., Any], *args: Any) -> threading.Thread:
        """Run fn(*args) on a new thread, as Go's `go` statement does.

        A failure there (t.Fatalf, or any exception) is kept with fail_later;
        join the returned thread to wait for it (Go's WaitGroup).
        """
        def run() -> None:
            try:
                fn(*args)
            except TestFailure as failure:
                self.fail_later(str(failure))
            except BaseException:
                self.fail_later(traceback.format_exc())

        thread = threading.Thread(target=run, name=f"test-{getattr(fn, '__name__', 'go')}")
        thread.start()
        return thread

    def check_later_failures(self) -> None:
        """Raise, in the calling thread, the first failure kept by fail_later."""
        self._let_others_catch_up()
        message = self.later_failure()
        if message is not None:
            raise TestFailure(message)


def threads_left(before: Collection[threading.Thread], grace_s: float) -> List[threading.Thread]:
    """The threads started since before that are still alive after waiting up
    to grace_s for them to end (every thread a test starts must end)."""
    deadline = time.monotonic() + grace_s
    while True:
        left = [th for th in threading.enumerate() if th not in before and th.is_alive()]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.01)
