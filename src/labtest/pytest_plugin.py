"""pytest glue for the lab: what `go test` gives the Go lab's tests.

Loaded by pytest from the `pytest11` entry point `raftlab`, for the lab's
tests and the project's own:
    the fixture `t`            Go's *testing.T, for tests written like the Go ones
    --race (RAFT_RACE=1)       the race checker (racecheck; its reports
                               on a test that failed otherwise: racecheck.pytest_plugin)
    --sim ...                  deterministic simulation (labsim.pytest_plugin)
    the Passed lines           repeated at the end, as `go test` prints them, with
                               a --- FAIL line for each test that failed
    --no-monitors              the run's record and the monitors (monitors.pytest_plugin)
    RAFT_DEBUG=1               DPrintf on: passing tests show their output too
                               (-rP), so `... 2>&1 | raft-logview` always has lines
and, each in its own module, for the lab's tests only (labtest.lab_tests):
    labtest.leftover_threads   a test fails if its threads outlive it by 1 s
    labtest.failures           a failure reported cause first, once
    labtest.next_steps         each failure ends with what to run next
    labtest.run_header         one header line naming the lab's options that are on
    labtest.path_options       `--timeline DIR` (two words) that misled pytest fails loudly
    labtest.hang_plugin        a hung test's report: the threads that matter, at the
                               timeout; a process that always exits
"""

from __future__ import annotations

from typing import Dict, Iterator, List, Tuple

import pytest

import labenv
import racecheck
from labsim import shrink
from labtest.testing import T

# The plugins of the packages below the lab (the record and monitors, --race's
# reports, --sim), each its own module; pytest loads them with this one.
# The timeline (labtools) has its own entry point, and the grader names its
# verdict plugin itself: neither package is below this one.
pytest_plugins = ["monitors.pytest_plugin", "racecheck.pytest_plugin", "labsim.pytest_plugin",
                  "labtest.lab_tests", "labtest.leftover_threads", "labtest.failures",
                  "labtest.next_steps", "labtest.run_header", "labtest.path_options",
                  "labtest.hang_plugin"]

# Lines each test printed through t.Log (its "Test ..." and "Passed" lines).
_REPORTS: List[Tuple[str, List[str]]] = []
# The first line of each failed test's cause, for its --- FAIL line.
_FAILED: Dict[str, str] = {}

# DPrintf's switch (raft.util reads it; raft is above this package).
DEBUG_ENV = "RAFT_DEBUG"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--race", action="store_true",
                     help="watch Raft peers for unlocked shared state (as RAFT_RACE=1)")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("race"):
        labenv.give(racecheck.ENV_VAR, "1")
    # DPrintf lines carry their own time, topic, peer, term and role.
    # (Set here: setup.cfg cannot hold a '%' for both setuptools and pytest.)
    if config.getoption("log_format") is None and not config.getini("log_format"):
        config.option.log_format = "%(message)s"
    # With DPrintf on, a passing test's lines are shown too (as Go prints
    # them): `RAFT_DEBUG=1 pytest -k X 2>&1 | raft-logview` has lines to read.
    debug = labenv.enabled(DEBUG_ENV)
    chars = config.getoption("reportchars", None)
    if debug and chars is not None and "P" not in chars and "A" not in chars \
            and "N" not in chars:
        config.option.reportchars = chars + "P"


@pytest.fixture
def t(request: pytest.FixtureRequest) -> Iterator[T]:
    """The Go tester's *testing.T, for tests written like the Go originals."""
    handle = T(request.node.name)
    yield handle
    if handle.output and not shrink.is_trial(request.node):  # (not each of --sim-shrink's)
        _REPORTS.append((request.node.nodeid, handle.output))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed and report.nodeid not in _FAILED:
        # (Imported here: pytest must load the plugins listed above itself,
        # to rewrite their asserts, before anything imports them.)
        from labtest.next_steps import cause
        _FAILED[report.nodeid] = (cause(report).splitlines() or [""])[0]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _REPORTS:
        return
    terminalreporter.section("Raft tester output (as go test prints it)")
    for nodeid, lines in _REPORTS:
        for line in lines:
            terminalreporter.write_line(line)
        if nodeid in _FAILED:
            name = nodeid.rpartition("::")[2]
            terminalreporter.write_line(f"--- FAIL: {name}: {_FAILED[nodeid]}")
