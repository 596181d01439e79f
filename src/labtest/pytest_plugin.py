"""pytest glue for the lab: what `go test` gives the Go lab's tests.

Loaded by pytest from the `pytest11` entry point `raftlab`, for the lab's
tests and the project's own:
    the fixture `t`            Go's *testing.T, for tests written like the Go ones
    --race (RAFT_RACE=1)       the race checker (racecheck; its reports
                               on a test that failed otherwise: racecheck.pytest_plugin)
    --sim ...                  deterministic simulation (labsim.pytest_plugin)
    a thread-leak check        a test fails if its threads outlive it by 1 s
    the Passed lines           repeated at the end, as `go test` prints them
    --no-monitors              the run's record and the monitors (monitors.pytest_plugin)
"""

from __future__ import annotations

import os
import threading
from typing import Iterator, List, Tuple

import pytest

import racecheck
from labtest.testing import T, threads_left

# The plugins of the packages below the lab (the record and monitors, --race's
# reports, --sim), each its own module; pytest loads them with this one.
# The timeline (labtools) has its own entry point, and the grader names its
# verdict plugin itself: neither package is below this one.
pytest_plugins = ["monitors.pytest_plugin", "racecheck.pytest_plugin", "labsim.pytest_plugin"]

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
    left = threads_left(before, THREAD_GRACE_S)
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
