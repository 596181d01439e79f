"""A lab test fails if threads it started still run after it (Kill() must stop them).

The check comes at the end of the test's call, once the harness has killed
every peer (cfg.cleanup), and fails the call itself: the test is reported
once, as failed, whatever its Passed line said. A cluster a fixture made
(its network still open when the call ends) is cleaned up by the fixture's
teardown, so its test is checked after the teardown instead. Threads started before the
call (by fixtures) are not the test's. A test that failed otherwise keeps
its own failure as the cause; its threads left running are named below it,
in a section of its report. Only the lab's tests are checked
(labtest.lab_tests).
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any, FrozenSet, Generator, List

import pytest

import labrpc
from labtest import lab_tests
from labtest.testing import TestFailure, threads_left

# How long the threads a test started may take to end after it returns.
THREAD_GRACE_S = 1.0
# At most this many threads are named with where each one is.
SHOWN = 3

SECTION = "threads left running"

_BEFORE = pytest.StashKey[FrozenSet[threading.Thread]]()
_NOTE = pytest.StashKey[str]()
_MADE_BY_FIXTURES = pytest.StashKey[FrozenSet[int]]()
_AFTER_TEARDOWN = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, Any]:
    already_open = {id(net) for net in labrpc.open_networks()}
    result = yield
    item.stash[_BEFORE] = frozenset(threading.enumerate())
    item.stash[_MADE_BY_FIXTURES] = frozenset(
        id(net) for net in labrpc.open_networks() if id(net) not in already_open)
    return result


def _fixture_cluster_open(item: pytest.Item) -> bool:
    """A network the test's fixtures made is still open (their teardown closes it)."""
    made = item.stash.get(_MADE_BY_FIXTURES, frozenset())
    return any(id(net) in made for net in labrpc.open_networks())


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, Any]:
    item.stash[_NOTE] = ""
    try:
        result = yield
    except BaseException:
        if lab_tests.is_lab_test(item):
            left = _left_behind(item.stash.get(_BEFORE, frozenset()))
            if left:
                item.stash[_NOTE] = message(left)
        raise
    if lab_tests.is_lab_test(item):
        if _fixture_cluster_open(item):
            item.stash[_AFTER_TEARDOWN] = True
            return result
        left = _left_behind(item.stash.get(_BEFORE, frozenset()))
        if left:
            __tracebackhide__ = True
            raise TestFailure(message(left))
    return result


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, Any]:
    result = yield
    if item.stash.get(_AFTER_TEARDOWN, False):
        left = _left_behind(item.stash.get(_BEFORE, frozenset()))
        if left:
            __tracebackhide__ = True
            raise TestFailure(message(left))
    return result


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Generator[None, Any, None]:
    outcome = yield
    note = item.stash.get(_NOTE, None) if call.when == "call" else None
    if note:
        outcome.get_result().sections.append((SECTION, note))


def _left_behind(before: FrozenSet[threading.Thread]) -> List[threading.Thread]:
    return sorted(threads_left(before, THREAD_GRACE_S), key=lambda th: th.name)


def message(left: List[threading.Thread]) -> str:
    """The failure: which threads, where each is, and that Kill() must stop them."""
    names = ", ".join(th.name for th in left)
    lines = [f"{len(left)} thread(s) still running {THREAD_GRACE_S:.0f} s after the test "
             f"ended: {names}; Kill() must stop them",
             "The tester kills each peer when it is done with it: every loop a peer runs "
             "should end once killed() is true."]
    frames = sys._current_frames()
    for th in left[:SHOWN]:
        where = _where(frames.get(th.ident or -1))
        if where:
            lines.append(f"  {th.name} is at {where}")
    return "\n".join(lines)


def _where(frame: Any) -> str:
    """The innermost frame of the student's folder (module raft.*) in a stack."""
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("raft.") and module != "raft.config":
            path = frame.f_code.co_filename
            if os.path.abspath(path).startswith(os.getcwd() + os.sep):
                path = os.path.relpath(path)
            return f"{path}:{frame.f_lineno} in {frame.f_code.co_name}"
        frame = frame.f_back
    return ""
