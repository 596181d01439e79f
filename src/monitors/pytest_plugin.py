"""pytest glue for the run's record and the monitors (listed in labtest.pytest_plugin).

    pytest                  monitors on: a broken Raft rule fails the test
    pytest --no-monitors    the Go lab's verdicts (as RAFT_MONITORS=0)
    pytest --record-failed DIR   save the record of each failed test in DIR
                                 (as RAFT_RECORD_FAILED=DIR; raft-stress sets it)
    records_of(item)        the records of the clusters a test made (the
                            timeline reads them in pytest_runtest_makereport)

A violation fails the test through the harness (t.fail_later, raised at the
harness's next check); if the test passes anyway (no check came after it),
it fails at the end of its call with the violation's message, unless it is
marked @pytest.mark.violations_expected (a test of the monitors themselves).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator, List

import pytest

import labenv
from labrpc.record import Record
from labsim import shrink
from monitors import recording

_RECORDS = pytest.StashKey[List[Record]]()


def records_of(item: pytest.Item) -> List[Record]:
    """The records of every Config made during the test item (empty when off)."""
    return item.stash.get(_RECORDS, [])


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--no-monitors", action="store_true",
                     help="do not check Raft's rules on the run's record: the Go lab's "
                     "verdicts (as RAFT_MONITORS=0)")
    parser.addoption("--record-failed", metavar="DIR",
                     help="save the record of each failed test in DIR, as JSON lines "
                     "(as RAFT_RECORD_FAILED=DIR)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "violations_expected: the test breaks Raft's rules on purpose (it tests "
        "the monitors); a violation does not fail it at its end")
    if config.getoption("no_monitors"):
        labenv.give(recording.MONITORS_ENV, "0")
    if config.getoption("record_failed"):
        labenv.give(recording.RECORD_FAILED_ENV, config.getoption("record_failed"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    made: List[Record] = []
    item.stash[_RECORDS] = made
    recording.listen(made.append)
    try:
        yield
    finally:
        recording.unlisten(made.append)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if call.when != "call":
        return
    records = records_of(item)
    for record in records:
        record.flush()  # a cluster the test did not clean up may hold unchecked events
    if report.passed and item.get_closest_marker("violations_expected") is None:
        violations = [event for record in records for event in record.events
                      if event["kind"] == "violation"]
        if violations:
            # The violation came after the harness's last check.
            report.outcome = "failed"
            report.longrepr = (f"Raft rule broken: {violations[0]['rule']}: "
                               f"{violations[0]['message']}")
    if report.failed and records and not shrink.is_trial(item):
        folder = labenv.value_of(recording.RECORD_FAILED_ENV)
        if folder:
            _save(records, Path(folder), item.nodeid)


def _save(records: List[Record], folder: Path, nodeid: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.rpartition("::")[2] or nodeid)
    for number, record in enumerate(records, start=1):
        suffix = f"-{number}" if len(records) > 1 else ""
        path = folder / f"{stem}{suffix}.jsonl"
        record.save(path)
        print(f"record of the run saved in {path}")
