"""pytest glue for hung tests (listed in labtest.pytest_plugin's pytest_plugins).

    the test's timeout     pytest-timeout's timer is this plugin's (its hooks
                           pytest_timeout_set_timer/cancel_timer): at the
                           timeout the test fails with the threads that matter,
                           grouped by what they wait for (labtest.hangs), and
                           every thread's stack goes to a file, not the terminal
    short failures         a failure of the lock or call watchdog, or a timeout,
                           is shown as its report alone, without pytest's
                           traceback of the test (-v or --full-trace: in full)
    a process that ends    at exit, non-daemon threads still running are named
                           with where they are, and the process exits anyway

pytest-timeout's own timeout dumps every thread's whole stack to the
terminal: for a hung Raft test that is thousands of lines, with the one
that matters among them. With method "signal" (the default where there is
SIGALRM) the test fails in its own thread and its cleanup runs, bounded
(labtest.peercalls); if it still has not ended BACKSTOP_S later, or with
method "thread", the report is printed and the process exits, as
pytest-timeout's thread method does. Under --sim pytest-timeout is off and
the simulation checks the limit in virtual time.
"""

from __future__ import annotations

import _thread
import os
import signal
import sys
import threading
import time
from typing import Any, Dict, Iterator, Optional

import pytest

from labtest import hangs, lockwatch, peercalls, threadview

# The first words of the reports shown without pytest's traceback.
TIMEOUT_START = "timeout:"
SHORT_REPORTS = (lockwatch.REPORT_START, peercalls.REPORT_START, TIMEOUT_START)
# After a timeout, how long the test's cleanup may take before the process ends.
BACKSTOP_S = 30.0
# How long non-daemon threads may take to end once pytest is done.
EXIT_GRACE_S = 2.0
# Trace functions of debuggers: a test stopped in one must not time out.
_DEBUGGERS = ("bdb", "pdb", "pydevd", "_pydevd", "debugpy")

_state: Dict[str, Any] = {}


def _wants_more(config: pytest.Config) -> bool:
    return bool(config.getoption("verbose", 0) > 0 or config.getoption("fulltrace", False))


def _debugging() -> bool:
    trace = sys.gettrace()
    module = getattr(trace, "__module__", "") or type(trace).__module__ or ""
    return trace is not None and module.split(".")[0] in _DEBUGGERS


class _Timer:
    """One test's timeout: a signal in its thread, and a backstop that exits.

    One raw thread keeps the time. With method "signal" it sends SIGALRM to
    the test's own thread (pthread_kill): a signal sent to the process may be
    taken by any thread, and a test thread blocked in a wait is woken only by
    a signal sent to it.
    """

    def __init__(self, item: pytest.Item, seconds: float, method: str) -> None:
        self.item = item
        self.seconds = seconds
        self.signal = (method == "signal" and hasattr(signal, "SIGALRM")
                       and threading.current_thread() is threading.main_thread())
        self._target = threading.get_ident()
        # Held until the timer is cancelled; the clock's waits are on it.
        self._cancelled = _thread.allocate_lock()
        self._cancelled.acquire()
        # Serialises cancel() with the alarm, so no alarm comes after it.
        self._mu = _thread.allocate_lock()
        self._done = False
        self._previous: Any = None

    def start(self) -> None:
        if self.signal:
            self._previous = signal.signal(signal.SIGALRM, self._on_alarm)
        # A raw thread: the test's thread-leak check must not see it.
        _thread.start_new_thread(self._clock, ())

    def cancel(self) -> None:
        with self._mu:
            self._done = True
            if self.signal:
                signal.signal(signal.SIGALRM, self._previous or signal.SIG_DFL)
        if self._cancelled.locked():
            self._cancelled.release()

    def _title(self) -> str:
        return (f"{TIMEOUT_START} the test ran past its {self.seconds:g} s limit "
                "(pytest-timeout). Where it is:")

    def _on_alarm(self, signum: int, frame: Any) -> None:
        __tracebackhide__ = True
        if _debugging():
            return
        with threadview.seen_at(frame):
            report = hangs.threads_report(self._title(), self.item.name,
                                          full=_wants_more(self.item.config))
        pytest.fail(report, pytrace=False)

    def _clock(self) -> None:
        if self._cancelled.acquire(True, self.seconds) or _debugging():
            return
        if self.signal:
            with self._mu:
                if self._done:
                    return
                signal.pthread_kill(self._target, signal.SIGALRM)
            if self._cancelled.acquire(True, BACKSTOP_S) or _debugging():
                return
        title = self._title() if not self.signal else (
            f"{TIMEOUT_START} the test did not end {BACKSTOP_S:g} s after its {self.seconds:g} s "
            "limit (its cleanup hangs too); the process exits. Where it is:")
        report = hangs.threads_report(title, self.item.name,
                                      full=_wants_more(self.item.config))
        _print_uncaptured(self.item.config, report)
        os._exit(1)


def _print_uncaptured(config: pytest.Config, text: str) -> None:
    """Write text to the terminal, past pytest's capture of the test's output."""
    capman = config.pluginmanager.getplugin("capturemanager")
    captured = ""
    if capman is not None:
        try:
            capman.suspend_global_capture(in_=True)
            out, err = capman.read_global_capture()
            captured = (out + err).strip()
        except Exception:
            pass  # (capture already stopped)
    if captured:
        tail = captured.splitlines()[-20:]
        text = "The test's last output:\n" + "\n".join(tail) + "\n" + text
    sys.stderr.write("\n" + text + "\n")
    sys.stdout.flush()
    sys.stderr.flush()


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: Any) -> bool:
    timer = _Timer(item, float(settings.timeout), str(settings.method))
    item.stash[_TIMER] = timer
    timer.start()
    return True


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_timeout_cancel_timer(item: pytest.Item) -> bool:
    timer: Optional[_Timer] = item.stash.get(_TIMER, None)
    if timer is not None:
        timer.cancel()
        del item.stash[_TIMER]
    return True


_TIMER = pytest.StashKey[_Timer]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    excinfo = call.excinfo
    if not report.failed or excinfo is None or _wants_more(item.config):
        return
    if str(excinfo.value).startswith(SHORT_REPORTS):
        # The report names the threads and their stacks; pytest's traceback
        # of the test's own thread would come first and push it off the screen.
        report.longrepr = excinfo.getrepr(style="value")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _state["status"] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Exit even if threads the tests left would keep the process alive."""
    deadline = time.monotonic() + EXIT_GRACE_S
    left = hangs.leftover_threads()
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = hangs.leftover_threads()
    if left:
        _print_uncaptured(config, hangs.leftover_report(left))
        os._exit(_state.get("status", 1))
