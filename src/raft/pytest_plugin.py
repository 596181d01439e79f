"""pytest glue for the lab: what `go test` gives the Go lab's tests.

Loaded by pytest from this package's `pytest11` entry point (and by the
grader with `-p raft.pytest_plugin`), for the lab's tests and the
project's own:
    the fixture `t`            Go's *testing.T, for tests written like the Go ones
    --race (RAFT_RACE=1)       the race checker (labtools.racecheck; its reports
                               on a test that failed otherwise: race_plugin.py)
    --sim ...                  deterministic simulation (labsim.pytest_plugin)
    a thread-leak check        a test fails if its threads outlive it by 1 s
    the Passed lines           repeated at the end, as `go test` prints them
    --timeline DIR             timeline pages of failing tests (labtools.timeline_plugin)
    --no-monitors, records_of  the run's record and the monitors (raft.monitor_plugin)
"""

from __future__ import annotations

import os
import threading
import time
from typing import Iterator, List, Tuple

import pytest

from labtools import racecheck
from raft.testing import T

# Plugins of the lab's features (the record and monitors, --timeline, --race's
# reports, --sim) and the grader's verdict channel (inert in plain pytest),
# each its own module; pytest loads them with this one.
pytest_plugins = ["raft.monitor_plugin", "labtools.timeline_plugin", "raft.verdict",
                  "raft.race_plugin", "labsim.pytest_plugin"]

# Lines each test printed through t.Log (its "Test ..." and "Passed" lines).
_REPORTS: List[Tuple[str, List[str]]] = []

# How long the threads a test started may take to end after it returns.
THREAD_GRACE_S = 1.0


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--race", action="store_true",
                     help="watch Raft peers for unlocked shared state (as RAFT_RACE=1)")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("race"):
        os.environ[racecheck.ENV_VAR] = "1"
    # DPrintf lines carry their own time, topic, peer, term and role.
    # (Set here: setup.cfg cannot hold a '%' for both setuptools and pytest.)
    if config.getoption("log_format") is None and not config.getini("log_format"):
        config.option.log_format = "%(message)s"


@pytest.fixture
def t(request: pytest.FixtureRequest) -> Iterator[T]:
    """The Go tester's *testing.T, for tests written like the Go originals."""
    handle = T(request.node.name)
    yield handle
    if handle.output:
        _REPORTS.append((request.node.nodeid, handle.output))


@pytest.fixture(autouse=True)
def no_thread_left_behind() -> Iterator[None]:
    """Fail a test that leaves threads running after its cleanup."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + THREAD_GRACE_S
    while True:
        left = [th for th in threading.enumerate() if th not in before and th.is_alive()]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    if left:
        names = sorted({th.name for th in left})
        pytest.fail(
            f"{len(left)} thread(s) still running {THREAD_GRACE_S:.0f} s after the "
            f"test ended: {', '.join(names)}"
        )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _REPORTS:
        return
    terminalreporter.section("Raft tester output (as go test prints it)")
    for _, lines in _REPORTS:
        for line in lines:
            terminalreporter.write_line(line)


def records_of(item: pytest.Item) -> list:
    """The records of every cluster the test item made (raft.monitor_plugin)."""
    # Imported here: pytest must load the plugin module itself, first.
    from raft.monitor_plugin import records_of as of_item
    return of_item(item)
