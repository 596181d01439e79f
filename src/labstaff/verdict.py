"""The harness's verdict to the grader, and its check of its own integrity.

Inert in plain `pytest`: it acts only when the grader (labstaff.grading)
starts pytest with RAFT_GRADER_CHANNEL="R:W", two inherited pipe ends:
    R   holds this run's secret (the grader wrote it and closed its end)
    W   takes the verdict, one line after each test's teardown:
            SECRET TESTNAME passed
            SECRET TESTNAME failed [WHY, when pytest's report cannot say]
            SECRET TESTNAME harness-changed Config.checkOneLeader,T.Fatalf

At start-up (pytest_configure, before any of the submission's code runs) it
reads the secret, closes R, removes the variable from the environment (the
submission is never told where the channel is), and snapshots the harness
(labstaff.integrity): labtest.testing, raft.persister, labrpc, labgob, the
monitors and the record, the lab's pytest plugins and every pytest hook.
Then it imports the tests, which import raft.config and with it the
submission's raft.py, and snapshots
raft.config and raft.test_raft, checking that each of their functions was
compiled from the harness's own file.

A test is reported passed only if its setup, call and teardown passed, the
harness printed its Passed line (cfg.end() is every Go test's last check)
on the test's own T, that T never failed, and the harness is unchanged. A
changed harness also fails the test in pytest's own report, with "the
submission changed the test harness: Config.checkOneLeader". The grader
counts any exit, kill or silence before the line as a failed test.

What the submission could still do (it runs in this process) is in
docs/grader-defences.md ("Not defended").
"""

from __future__ import annotations

import faulthandler
import importlib
import os
import sys
import threading
from typing import Any, Dict, List, Optional

import pytest

from labstaff.channel import (CHANNEL_ENV, FAILED, HARNESS_CHANGED, HARNESS_CHANGED_WORD,
                              PASSED, STACKS_SIGNAL)
from labstaff.integrity import Snapshot

PASSED_MARK = "... Passed --"
NO_PASSED_LINE = "pytest passed the test, but the harness never printed its Passed line"
# Names the harness itself rebinds as it runs (labgob counts decode warnings).
REBOUND_AS_IT_RUNS = {"labgob": ("_error_count",)}
# The modules that must hold every function of the harness they define.
LATE_HARNESS = ("raft.config", "raft.test_raft")


class _Guard:
    """The grader's side of one test process: registered as a pytest plugin."""

    def __init__(self, secret: bytes, fd: int) -> None:
        # Imported here, not at the top: plain pytest runs never load them early.
        import labenv
        import labgob
        import labrpc
        import labrpc.affinity
        import labrpc.record
        import labtest.applych
        import labtest.failures
        import labtest.lab_tests
        import labtest.leftover_threads
        import labtest.pytest_plugin
        import labtest.testing
        import monitors.pytest_plugin
        import monitors.recording
        import monitors.rules  # noqa: F401 - loads every rule module (snapshotted below)
        import racecheck
        import raft.persister

        # Bound now: the submission may later rebind os.write or the T class.
        self._write = os.write
        self._secret = secret
        self._fd = fd
        self._tester = labtest.testing.T
        self._failed = labtest.testing.T.Failed
        self._phases: Dict[str, List[str]] = {}
        self._handles: Dict[str, Any] = {}
        self._late_problem: Optional[str] = None
        self.snapshot = Snapshot()
        # Every module of the monitors: the dispatcher, the traffic's reading, each rule.
        monitor_modules = [module for name, module in sorted(sys.modules.items())
                           if name.startswith("monitors.")]
        for module in (labtest.testing, raft.persister, labrpc, labrpc.affinity, labrpc.record,
                       labenv, labgob, racecheck, labtest.pytest_plugin, *monitor_modules,
                       labtest.applych, labtest.lab_tests, labtest.leftover_threads,
                       labtest.failures, sys.modules[__name__]):
            self.snapshot.add_module(module, REBOUND_AS_IT_RUNS.get(module.__name__, ()))
        self.snapshot.add_object("pytest.fail", pytest, "fail")
        self.snapshot.add_object("threading.enumerate", threading, "enumerate")

    def load_harness(self) -> None:
        """Import the tests (and so raft.config and the submission); snapshot them."""
        try:
            modules = [importlib.import_module(name) for name in LATE_HARNESS]
        except Exception:  # noqa: BLE001 - pytest's collection reports it, as always
            return
        for module in modules:
            foreign = _foreign_functions(module)
            if foreign:
                self._late_problem = foreign[0]
            self.snapshot.add_module(module)

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Every plugin is configured now, and no test module is imported yet."""
        self.snapshot.add_plugins(session.config.pluginmanager)
        self.load_harness()

    def changes(self) -> List[str]:
        changed = self.snapshot.changes()
        if self._late_problem:
            changed.insert(0, self._late_problem)
        return changed

    # --- pytest hooks ---------------------------------------------------------------

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: Any) -> Any:
        outcome = yield
        report = outcome.get_result()
        if call.when == "setup":
            # A new run of the test (--sim-seeds runs it once per seed):
            # each run gets its own verdict, and any failure beats a pass.
            self._phases[item.nodeid] = []
            self._handles.pop(item.nodeid, None)
        phases = self._phases.setdefault(item.nodeid, [])
        phases.append(report.outcome)
        if call.when == "call":
            self._handles[item.nodeid] = (getattr(item, "funcargs", None) or {}).get("t")
        if call.when != "teardown":
            return
        changed = self.changes()
        if changed:
            if report.outcome == "passed":
                report.outcome = "failed"
                report.longrepr = f"{HARNESS_CHANGED}: {', '.join(changed)}"
            self._report(item.name, f"{HARNESS_CHANGED_WORD} {','.join(changed)}")
        elif phases != ["passed"] * 3:
            self._report(item.name, FAILED)
        elif self._harness_passed(item.nodeid):
            self._report(item.name, PASSED)
        else:
            self._report(item.name, f"{FAILED} {NO_PASSED_LINE}")

    def _harness_passed(self, nodeid: str) -> bool:
        """The test's own T logged the Passed line and never failed."""
        handle = self._handles.get(nodeid)
        if type(handle) is not self._tester or self._failed(handle):
            return False
        return any(PASSED_MARK in line for line in list(handle.output))

    def _report(self, name: str, verdict: str) -> None:
        line = b"%s %s %s\n" % (self._secret, name.encode(), verdict.encode())
        try:
            self._write(self._fd, line)
        except OSError:
            pass  # the submission closed the channel: the grader hears nothing, a failure


def _foreign_functions(module: Any) -> List[str]:
    """Functions of a harness module that were not compiled from its file."""
    home = getattr(module, "__file__", None)
    found = []
    namespaces = [(module.__name__.rsplit(".", 1)[-1], vars(module))]
    namespaces += [(value.__qualname__, vars(value)) for value in vars(module).values()
                   if isinstance(value, type) and value.__module__ == module.__name__]
    for prefix, namespace in namespaces:
        for name, value in list(namespace.items()):
            function = getattr(value, "__func__", value)
            code = getattr(function, "__code__", None)
            if code is None or getattr(function, "__module__", None) != module.__name__:
                continue
            if code.co_filename != home:
                found.append(f"{prefix}.{name}")
    return found


def _open_channel(spec: str) -> "tuple[bytes, int]":
    """Read the secret from R and close it; the verdict goes to W."""
    try:
        secret_fd, verdict_fd = (int(part) for part in spec.split(":"))
    except ValueError:
        raise pytest.UsageError(f"{CHANNEL_ENV} must be 'R:W' (two file descriptors), "
                                f"got {spec!r}") from None
    chunks = []
    while True:
        chunk = os.read(secret_fd, 4096)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(secret_fd)
    secret = b"".join(chunks).strip()
    if not secret:
        raise pytest.UsageError(f"{CHANNEL_ENV}: the grader's secret was empty")
    return secret, verdict_fd


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    spec = os.environ.pop(CHANNEL_ENV, None)
    if spec is None:
        return
    secret, verdict_fd = _open_channel(spec)
    if STACKS_SIGNAL is not None:
        # For a process that will not exit: pytest's own faulthandler is off by
        # then, so the stacks the grader asks for come from this handler.
        faulthandler.register(STACKS_SIGNAL, file=sys.__stderr__, all_threads=True)
    guard = _Guard(secret, verdict_fd)
    # Registered first of all (and the secret taken from the environment before
    # any other plugin runs); the snapshot of plugins and hooks waits for
    # pytest_sessionstart, once every plugin has configured itself (the
    # timeline registers its writer then).
    config.pluginmanager.register(guard, "raft-grader-guard")
