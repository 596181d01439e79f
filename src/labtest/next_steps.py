"""What to run next: the last lines of each failure of a lab test.

    -------------------------------- what to run next ---------------------------------
    find a failing seed:   raft-stress --sim -k TestReElection2A
    DPrintf by peer:       RAFT_DEBUG=1 pytest -k TestReElection2A 2>&1 | raft-logview
    the run as a page:     pytest -k TestReElection2A --timeline=pages

Chosen by what happened (kind_of):
    under --sim            the command that replays the run (labsim puts it in
                           the report's user_properties), and the same run
                           with its DPrintf lines or its timeline page
    in real time           raft-stress --sim, which hunts for a seed that fails
                           and then replays it exactly
    a hang or a deadlock   --race first: a lock held across a Call, a sleep or
                           a channel put is the usual cause
    threads left running   their DPrintf lines (what they do after Kill())
    an exception           the DPrintf lines that led to it
A timeline page written for the test (page_written, called by the timeline
plugin) is named instead of the --timeline command.

Only the lab's tests get them (labtest.lab_tests), one block per run of a
test (its first failed phase), added when the test is finished: its pages
are drawn after its teardown.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Optional

import pytest

import racecheck
from labsim.pytest_plugin import REPLAY_PROPERTY
from labtest import lab_tests

SECTION = "what to run next"
# labsim's own section on a failed run (its seed and replay command): the
# replay is the first step here, so that section is left out.
LABSIM_SECTION = "labsim"
PAGES_DIR = "pages"
# Words of a failure that is a hang or a deadlock (pytest-timeout's
# "Timeout (>120.0s)", the Go tester's "took longer than 120 seconds",
# applyCh's and the simulation's deadlocks, the simulation's escapes).
HANG = re.compile(r"\b(timeout|timed out|took longer than|deadlock|hangs?|hung|stuck|"
                  r"blocked|busy loop)\b", re.IGNORECASE)
EXCEPTION = re.compile(r"^(labrpc: handler \S+ raised |[A-Za-z_][\w.]*(Error|Exception)\b)")
LEAK = re.compile(r"still running .* after the test ended")

_pages: Dict[str, List[Path]] = {}
_failed: Dict[str, List[pytest.TestReport]] = {}
_run_failed: Dict[str, bool] = {}


def page_written(nodeid: str, path: Path) -> None:
    """A timeline page was drawn for the test nodeid (the timeline plugin says so)."""
    _pages.setdefault(nodeid, []).append(Path(path))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "setup":
        _run_failed[report.nodeid] = False  # a new run of the test
    if report.failed and not _run_failed.get(report.nodeid) \
            and lab_tests.is_lab_nodeid(report.nodeid):
        _run_failed[report.nodeid] = True
        _failed.setdefault(report.nodeid, []).append(report)


def pytest_runtest_logfinish(nodeid: str) -> None:
    pages = _pages.pop(nodeid, [])
    _run_failed.pop(nodeid, None)
    for report in _failed.pop(nodeid, []):
        lines = steps(report, pages)
        report.sections[:] = [s for s in report.sections if s[0] != LABSIM_SECTION]
        report.sections.append((SECTION, "\n".join(lines)))


def cause(report: pytest.TestReport) -> str:
    """The failure's message: the first line of pytest's crash message."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = getattr(crash, "message", None) or str(report.longrepr or "")
    return text.strip()


def kind_of(report: pytest.TestReport) -> str:
    """'leak', 'hang', 'exception' or 'verdict' (a check of the tester failed)."""
    text = cause(report)
    if LEAK.search(text):
        return "leak"
    if HANG.search(text.splitlines()[0] if text else ""):
        return "hang"
    if EXCEPTION.match(text):
        return "exception"
    return "verdict"


def _selector(nodeid: str) -> str:
    name = nodeid.rpartition("::")[2]
    return f"-k {name}" if re.fullmatch(r"\w+", name) else f"'{nodeid}'"


def steps(report: pytest.TestReport, pages: List[Path]) -> List[str]:
    """The commands to run next for this failed report, one a line."""
    kind = kind_of(report)
    select = _selector(report.nodeid)
    replay: Optional[str] = dict(report.user_properties).get(REPLAY_PROPERTY)
    run = replay or f"pytest {select}"
    found: List[tuple] = []
    if replay:
        found.append(("replay it exactly:", replay))
    if kind == "hang" and not racecheck.enabled():
        found.append(("check the locking:", f"pytest {select} --race"))
    if not replay and kind in ("verdict", "hang") and select.startswith("-k "):
        found.append(("find a failing seed:", f"raft-stress --sim {select}"))
    found.append(("DPrintf by peer:", f"RAFT_DEBUG=1 {run} 2>&1 | raft-logview"))
    if pages:
        shown = ", ".join(str(page) for page in pages[:2])
        more = f" and {len(pages) - 2} more" if len(pages) > 2 else ""
        found.append(("the run as a page:", shown + more))
    elif kind != "leak":
        found.append(("the run as a page:", f"{run} --timeline={PAGES_DIR}"))
    width = max(len(label) for label, _ in found) + 1
    return [f"{label:<{width}} {command}" for label, command in found]
