"""A lab test's failure, cause first and once.

    FAILED src/raft/test_raft.py::TestReElection2A - expected one leader, got none

For the lab's tests (labtest.lab_tests), a failure is reported as `go test`
reports one: the tester's message alone (no "labtest.testing.TestFailure:"
before it, in the short summary and on pytest's E lines), under the test's
line and the student's code it went through, one line each; the harness's
own frames are left out (raft.config and labtest.testing hide themselves
with a module-wide __tracebackhide__). `--tb=...` other than auto, and
--fulltrace, keep pytest's own report.

A handler's exception kills the thread that made the call with a
LabrpcError, and the network keeps it (Network.fatal_error()): the harness
fails the test with it at its next check. During a lab test that thread's
death is not reported a second time by pytest's unhandled-thread-exception
warning; any other thread's death is.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Generator, Iterator

import pytest

from labrpc import LabrpcError
from labtest import lab_tests
from labtest.testing import TestFailure

# Exceptions whose message is the whole cause (their type says nothing more):
# the tester's, pytest.fail's (pytest-timeout's too), labrpc's.
CAUSE_IS_THE_MESSAGE = (TestFailure, pytest.fail.Exception, LabrpcError)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    option = item.config.option
    tidy = (call.excinfo is not None and lab_tests.is_lab_test(item)
            and not getattr(option, "fulltrace", False)
            and getattr(option, "tbstyle", "auto") == "auto")
    if tidy:
        drop_type(call.excinfo)
        # One line a frame while this report is made (pytest reads the
        # option there): the test's whole body above its failing line is
        # not news. pytest's own --tb=auto stays for every other test.
        option.tbstyle = "short"
    try:
        outcome = yield
    finally:
        if tidy:
            option.tbstyle = "auto"
    if tidy:
        _no_hidden_frames_note(outcome.get_result())
    if tidy and isinstance(call.excinfo.value, CAUSE_IS_THE_MESSAGE):
        _one_line_summary(outcome.get_result())


def _one_line_summary(report: pytest.TestReport) -> None:
    """Keep the short summary's line to the cause's first line.

    pytest prints a failure's whole message there when it runs on CI (the
    CI variable set) or at -vv; a cause with a traceback or a hang's
    thread list below it would then be printed twice. The E lines above
    keep the whole message."""
    crash = getattr(report.longrepr, "reprcrash", None)
    message = getattr(crash, "message", None)
    if isinstance(message, str) and "\n" in message.strip():
        crash.message = next(line for line in message.splitlines() if line.strip())


def _no_hidden_frames_note(report: pytest.TestReport) -> None:
    """Drop pytest's "All traceback entries are hidden" from a failure raised
    by the lab's own checks (after the test's call): there are no frames to see."""
    reprtraceback = getattr(report.longrepr, "reprtraceback", None)
    if reprtraceback is not None and len(getattr(reprtraceback, "reprentries", ())) == 1 \
            and "hidden" in str(getattr(reprtraceback, "extraline", None) or ""):
        reprtraceback.extraline = None


def drop_type(excinfo: pytest.ExceptionInfo) -> None:
    """Report excinfo by its message alone when that is its whole cause."""
    value = excinfo.value
    if not isinstance(value, CAUSE_IS_THE_MESSAGE):
        return
    whole, message = excinfo.exconly(), str(value).rstrip()
    # pytest's own way to drop "AssertionError: " from its reports (a private
    # field of ExceptionInfo, there since pytest 3); without it, no harm.
    if message and whole.endswith(message) and hasattr(excinfo, "_striptext"):
        excinfo._striptext = whole[:len(whole) - len(message)]


def _quiet_kept_labrpc_errors(item: pytest.Item,
                              hook: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def excepthook(args: Any) -> Any:
        error = args.exc_value
        if (isinstance(error, LabrpcError) and error.kept_by_network
                and lab_tests.is_lab_test(item)):
            return None  # the harness reports it, as the test's failure
        return hook(args)
    return excepthook


def _phase(item: pytest.Item) -> Generator[None, None, Any]:
    # Innermost of the wrappers (trylast): pytest may set its own hook around
    # each phase (pytest < 8.4) or once for the run; this one goes in front.
    before = threading.excepthook
    threading.excepthook = _quiet_kept_labrpc_errors(item, before)
    try:
        return (yield)
    finally:
        threading.excepthook = before


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, Any]:
    return (yield from _phase(item))


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, Any]:
    return (yield from _phase(item))


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, Any]:
    return (yield from _phase(item))
