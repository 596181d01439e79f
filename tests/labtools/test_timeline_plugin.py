"""pytest --timeline DIR: failing tests' pages (or all), and a clear word when there is no record.

Each case runs pytest on a small test file in its own process. Its conftest
stands in for the run's record: it sets labtools.timeline_plugin.recorded to give
a stand-in record (tests/timeline_records.py) to every test but
test_without_record.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, Optional

REPO = Path(__file__).resolve().parents[2]

TESTS = """
def test_passes():
    assert True

def test_fails():
    assert 1 == 2, "expected one leader, got two"

def test_without_record():
    assert False
"""

WITH_RECORDS = """
import labtools.timeline_plugin
from tests.labtools import timeline_records

class StandIn:
    def __init__(self, events):
        self.events = events

def records_of(item):
    if item.name == "test_without_record":
        return []
    return [StandIn(timeline_records.failing_reelection())]

labtools.timeline_plugin.recorded = records_of
"""


def run(tmp_path: Path, *args: str, conftest: str = WITH_RECORDS,
        env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    (tmp_path / "test_cases.py").write_text(TESTS)
    (tmp_path / "conftest.py").write_text(conftest)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RAFT_TIMELINE")}
    # The stand-in records are this project's tests' own module.
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), environ.get("PYTHONPATH")]))
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_cases.py", *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=environ,
    )


def test_a_failing_test_gets_a_page(tmp_path: Path) -> None:
    result = run(tmp_path, "--timeline", "out")
    assert result.returncode == 1          # the tests' own outcome stands
    pages = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert pages == ["test_fails.html"]
    page = (tmp_path / "out" / "test_fails.html").read_text()
    assert '<span class="verdict failed">failed</span>' in page
    assert "expected one leader, got two" in page
    assert "test_cases.py::test_fails" in page
    assert f"timeline: {tmp_path / 'out' / 'test_fails.html'}" in result.stdout
    assert ("timeline: no page for test_cases.py::test_without_record: the test made no "
            "Config with a record") in result.stdout


def test_timeline_all_draws_passing_tests_too(tmp_path: Path) -> None:
    run(tmp_path, "--timeline", "out", "--timeline-all")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "test_fails.html", "test_passes.html"]
    page = (tmp_path / "out" / "test_passes.html").read_text()
    assert '<span class="verdict passed">passed</span>' in page


def test_the_environment_variables_do_the_same(tmp_path: Path) -> None:
    run(tmp_path, env={"RAFT_TIMELINE": str(tmp_path / "pages"), "RAFT_TIMELINE_ALL": "1"})
    assert sorted(p.name for p in (tmp_path / "pages").iterdir()) == [
        "test_fails.html", "test_passes.html"]


def test_timeline_all_alone_is_a_usage_error(tmp_path: Path) -> None:
    result = run(tmp_path, "--timeline-all")
    assert result.returncode == 4
    assert "--timeline-all needs --timeline DIR" in result.stderr


def test_the_grader_names_a_failed_tests_page(tmp_path: Path) -> None:
    from labstaff.grading import Grading, Outcome, attach_timelines

    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "TestReElection2A.html").write_text("<html></html>")
    (pages / "TestInitialElection2A.html").write_text("<html></html>")
    grading = Grading([Outcome("TestInitialElection2A", True, 1.0, "", "passed"),
                       Outcome("TestReElection2A", False, 1.0, "why", "why"),
                       Outcome("TestManyElections2A", False, 1.0, "why", "why")])
    attach_timelines(grading, pages, since=0.0)
    assert [o.output for o in grading.outcomes] == [
        "passed", f"why\n\ntimeline page: {pages / 'TestReElection2A.html'}", "why"]
    stale = Grading([Outcome("TestReElection2A", False, 1.0, "why", "why")])
    attach_timelines(stale, pages, since=(pages / "TestReElection2A.html").stat().st_mtime + 1)
    assert stale.outcomes[0].output == "why"       # a page from an earlier grading


def test_the_graders_test_processes_draw_their_pages(tmp_path: Path) -> None:
    solution = REPO / "src" / "raft" / "raft.py"
    make = "    rf = Raft(peers, me, persister, applyCh)\n"
    broken = tmp_path / "broken" / "raft.py"
    broken.parent.mkdir()
    planted = "    raise RuntimeError('planted')\n"
    broken.write_text(solution.read_text().replace(make, planted + make))
    out = tmp_path / "results.json"
    result = subprocess.run(
        [sys.executable, "-m", "labstaff.grade", str(broken), "--test", "TestInitialElection2A",
         "--timeline", "pages", "--out", str(out)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    (test,) = json.loads(out.read_text())["tests"]
    assert test["status"] == "failed"
    page = tmp_path / "pages" / "TestInitialElection2A.html"
    assert page.exists(), test["output"]
    assert f"timeline page: {page}" in test["output"]


def test_a_simulated_seed_draws_the_same_page_on_every_replay(tmp_path: Path) -> None:
    pages = []
    for attempt in ("first", "second"):
        folder = tmp_path / attempt
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
             str(REPO / "src" / "raft" / "test_raft.py"), "-k", "TestReElection2A",
             "--sim", "--sim-seed", "3", "--timeline", str(folder), "--timeline-all"],
            cwd=REPO, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout[-3000:]
        pages.append((folder / "TestReElection2A.html").read_bytes())
    assert pages[0] == pages[1] and b"S0" in pages[0]


DPRINTF_IN_A_CLUSTER = '''
from raft.config import make_config
from raft.util import DPrintf


def test_prints(t):
    with make_config(t, 1, False):
        DPrintf("%-6s S%d T%d %s", "VOTE", 0, 1, "a line for the page")
    assert False, "fails, so that it gets a page"
'''


def test_the_page_carries_dprintf_lines_without_raft_debug(tmp_path: Path) -> None:
    (tmp_path / "test_cases.py").write_text(DPRINTF_IN_A_CLUSTER)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RAFT_")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_cases.py",
         "--timeline=out"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=environ)
    assert result.returncode == 1, result.stdout
    assert "a line for the page" not in result.stdout     # kept, not printed
    page = (tmp_path / "out" / "test_prints.html").read_text()
    assert "<b>1</b> DPrintf lines" in page
    assert "a line for the page" in page
    # The failure names its page among the next steps.
    assert f"the run as a page:  {tmp_path / 'out' / 'test_prints.html'}" in result.stdout
