"""pytest --timeline DIR: a timeline page (labtools.timeline) for each failing test.

    pytest -k 2A --timeline=out/                     a page per failing test, in out/
    pytest -k TestReElection2A --timeline=out/ --timeline-all     every test's page
    RAFT_TIMELINE=out/ pytest -k 2A                  the same (RAFT_TIMELINE_ALL=1: every test)

Write --timeline=DIR as one word: pytest reads the value of `--timeline DIR`
as a path to test when DIR exists outside the lab's tree, before this
plugin is loaded (labtest.path_options stops such a run, naming the fix).

A page is named after its test (out/TestReElection2A.html; a test that made
several Configs gets TestX.html, TestX-2.html, ...). The pages are drawn from
the run's record, monitors.pytest_plugin.records_of(item): one Record per
Config the test made, with the test's DPrintf lines (on while the timeline
is: raft.util keeps them in the record even without RAFT_DEBUG, which
prints them). A test without a record gets no page, and the summary at the
end says why (the record was off); a run that drew no page at all says so.
Each page is named in its test's failure too (labtest.next_steps).

Under `pytest --sim --sim-shrink` (labsim.shrink) it draws the shrunk run's
page beside its replay file (pytest_labsim_shrunk), with the departures from
a calm run marked; the shrinker's tries get no page.

Loaded from its own `pytest11` entry point (raftlab-timeline); the grader
names it with -p.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

import labenv
from labtest import next_steps, path_options, run_header
from labsim.shrink import is_trial
from monitors.pytest_plugin import records_of as recorded

ENV_DIR = "RAFT_TIMELINE"
ENV_ALL = "RAFT_TIMELINE_ALL"
# raft.util's switch that keeps DPrintf lines in the record without printing
# them (raft is above labtest but below this package; read by the harness's
# first Config, after this plugin is configured).
ENV_KEEP_DPRINTF = "RAFT_RECORD_DPRINTF"

path_options.takes_path("--timeline")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("raft timeline", "a run as a picture (labtools.timeline)")
    group.addoption("--timeline", metavar="DIR", default=None,
                    help=f"write a timeline page of each failing test into DIR (as {ENV_DIR}=DIR)")
    group.addoption("--timeline-all", action="store_true",
                    help=f"with --timeline: a page for every test, passed or failed "
                         f"(as {ENV_ALL}=1)")


def pytest_configure(config: pytest.Config) -> None:
    folder = config.getoption("timeline") or labenv.value_of(ENV_DIR)
    every = config.getoption("timeline_all") or labenv.enabled(ENV_ALL)
    if every and not folder:
        raise pytest.UsageError(f"--timeline-all needs --timeline DIR (or {ENV_DIR}=DIR)")
    if folder:
        # A page draws the run's record: keep one even with the monitors off
        # (an explicit RAFT_RECORD=0 still wins, and the page then says why
        # there is none).
        labenv.give_default("RAFT_RECORD", "1")
        labenv.give_default(ENV_KEEP_DPRINTF, "1")
        where = Path(folder).resolve()
        run_header.add(config, f"timeline pages go to {where}"
                               f"{' (every test)' if every else ' (failing tests)'}")
        config.pluginmanager.register(TimelineWriter(where, every), "raft-timeline-writer")


def records_of(item: pytest.Item) -> Tuple[List[Any], str]:
    """The test's records, or [] and why there are none."""
    try:
        found = [r for r in recorded(item) if r is not None]
    except Exception as err:    # reported in the summary; the test's own outcome stands
        return [], f"records_of raised {err!r}"

    if not found:
        return [], "the test made no Config with a record (is recording off?)"
    return found, ""


def _failure(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    message = getattr(crash, "message", None)
    if message:
        return str(message)
    lines = str(report.longrepr).strip().splitlines()
    return lines[-1] if lines else f"failed in {report.when}"


class TimelineWriter:
    """Collects each test's records after its call and draws them after its teardown."""

    def __init__(self, folder: Path, every: bool) -> None:
        self.folder = folder
        self.every = every
        self.written: List[Path] = []
        self.missing: Dict[str, List[str]] = {}     # why -> the tests without a record
        self._tests: Dict[str, Dict[str, Any]] = {}
        self._names: Dict[str, int] = {}

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        outcome = yield
        if is_trial(item):
            return
        report: pytest.TestReport = outcome.get_result()
        test = self._tests.setdefault(item.nodeid, {"failed": None, "records": None})
        if report.failed and test["failed"] is None:
            test["failed"] = _failure(report)
        if report.when == "call":
            test["records"] = records_of(item)
        if report.when == "teardown":
            del self._tests[item.nodeid]
            if test["failed"] is not None or self.every:
                found = test["records"] if test["records"] is not None else records_of(item)
                self._draw(item, found, test["failed"])

    def _page_name(self, item: pytest.Item) -> str:
        name = re.sub(r"[^\w.\[\]-]+", "_", item.name)
        uses = self._names.get(name, 0)
        self._names[name] = uses + 1
        return name if not uses else f"{name}-{uses + 1}"

    def _draw(self, item: pytest.Item, found: Tuple[List[Any], str],
              failure: Optional[str]) -> None:
        records, why = found
        if not records:
            self.missing.setdefault(why, []).append(item.nodeid)
            return
        written = _write_pages(item, records, self.folder, self._page_name(item), failure)
        self.written += written
        for page in written:
            next_steps.page_written(item.nodeid, page)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.written and not self.missing:
            why = ("no test failed (--timeline-all draws passing tests too)"
                   if terminalreporter.stats.get("passed") else "no test ran")
            terminalreporter.write_line(f"timeline: no page written into {self.folder}: {why}")
            return
        terminalreporter.section("timeline pages")
        for path in self.written:
            terminalreporter.write_line(f"timeline: {path}")
        for why, tests in self.missing.items():
            named = ", ".join(tests[:3]) + (f" and {len(tests) - 3} more" if len(tests) > 3 else "")
            terminalreporter.write_line(f"timeline: no page for {named}: {why}")


def _write_pages(item: pytest.Item, records: List[Any], folder: Path, name: str,
                 failure: Optional[str]) -> List[Path]:
    """One page per record: folder/name.html, name-2.html, ..."""
    from labtools.timeline import write_page

    verdict = "failed" if failure is not None else "passed"
    return [write_page(record, folder / f"{name if number == 1 else f'{name}-{number}'}.html",
                       title=item.nodeid, verdict=verdict, note=failure)
            for number, record in enumerate(records, 1)]


@pytest.hookimpl(optionalhook=True)
def pytest_labsim_shrunk(item: pytest.Item, reports: List[pytest.TestReport],
                         path: str) -> Optional[str]:
    """The shrunk run's page at path (labsim.shrink), drawn as --timeline would."""
    records, _ = records_of(item)
    if not records:
        return None
    failed = next((report for report in reports if report.failed), None)
    failure = _failure(failed) if failed is not None else None
    target = Path(path)
    written = _write_pages(item, records, target.parent, target.stem, failure)
    return ", ".join(str(page) for page in written)
