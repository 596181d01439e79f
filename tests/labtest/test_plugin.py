"""The lab's pytest plugin in every run of the environment: its checks and
messages for the lab's tests alone, its header line, its path options.

Each case runs pytest in its own process on a small test file, with the
plugins installed as entry points (as in a student's or another project's
run).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, Optional

import pytest

from labtools import logview

LEFT_ALONE = '''
import threading
from dataclasses import dataclass

import labrpc
from labtest.testing import T


@dataclass
class Reply:
    X: int = 0


class Sleepy:
    def __init__(self):
        self.started = threading.Event()

    def Nap(self, args: int, reply: Reply) -> None:
        self.started.set()
        threading.Event().wait(3)


def test_a_handler_sleeps_past_the_test():
    service = Sleepy()
    net = labrpc.MakeNetwork()
    end = net.MakeEnd("e")
    server = labrpc.MakeServer()
    server.AddService(labrpc.MakeService(service))
    net.AddServer("s", server)
    net.Connect("e", "s")
    net.Enable("e", True)
    threading.Thread(target=end.Call, args=("Sleepy.Nap", 1, Reply()), daemon=True).start()
    assert service.started.wait(10)


def test_plain_failure():
    assert 1 == 2


def test_the_lab_fixture_t_leaves_a_thread(t):
    threading.Thread(target=threading.Event().wait, args=(3,), name="left-behind",
                     daemon=True).start()


def test_a_t_of_its_own_leaves_a_thread():
    T(echo=False)
    threading.Thread(target=threading.Event().wait, args=(3,), name="left-too",
                     daemon=True).start()
'''


def run(folder: Path, *args: str, env: Optional[Dict[str, str]] = None,
        cwd: Optional[Path] = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RAFT_")}
    environ.pop("PYTEST_ADDOPTS", None)
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=cwd or folder, capture_output=True, text=True, timeout=120,
                          env=environ)


def test_other_projects_tests_keep_pytests_own_behaviour(tmp_path: Path) -> None:
    (tmp_path / "test_mixed.py").write_text(LEFT_ALONE)
    result = run(tmp_path, "-rA", "test_mixed.py", env={"COLUMNS": "200"})
    out = result.stdout
    assert "PASSED test_mixed.py::test_a_handler_sleeps_past_the_test" in out, out
    # pytest's own report of a failure that is not the lab's
    assert "FAILED test_mixed.py::test_plain_failure - assert 1 == 2" in out
    assert "E       assert 1 == 2" in out
    assert out.count("what to run next") == 2, out
    # The lab's tests: by the fixture t, or by a T of their own.
    assert ("FAILED test_mixed.py::test_the_lab_fixture_t_leaves_a_thread - 1 thread(s) still "
            "running 1 s after the test ended: left-behind; Kill() must stop them") in out
    assert "FAILED test_mixed.py::test_a_t_of_its_own_leaves_a_thread - 1 thread(s) still " \
        "running" in out
    assert "3 failed, 1 passed" in out.splitlines()[-1]
    assert "error" not in out.splitlines()[-1]


FIXTURE_CLUSTER = '''
import threading
from dataclasses import dataclass

import labrpc
import pytest
from labtest.testing import T


@dataclass
class Reply:
    X: int = 0


class Quick:
    def Echo(self, args: int, reply: Reply) -> None:
        reply.X = args


def cluster(close):
    net = labrpc.MakeNetwork()
    end = net.MakeEnd("e")
    server = labrpc.MakeServer()
    server.AddService(labrpc.MakeService(Quick()))
    net.AddServer("s", server)
    net.Connect("e", "s")
    net.Enable("e", True)
    yield end
    if close:
        net.Cleanup()


@pytest.fixture
def closed_by_teardown():
    yield from cluster(True)


@pytest.fixture
def never_closed():
    yield from cluster(False)


def test_a_fixtures_cluster_is_checked_after_its_teardown(closed_by_teardown):
    T(echo=False)
    assert closed_by_teardown.Call("Quick.Echo", 7, Reply())


def test_a_fixtures_cluster_left_open_leaves_its_threads(never_closed):
    T(echo=False)
    assert never_closed.Call("Quick.Echo", 7, Reply())
'''


def test_a_cluster_made_by_a_fixture_is_judged_once_the_fixture_is_torn_down(
        tmp_path: Path) -> None:
    (tmp_path / "test_fixture.py").write_text(FIXTURE_CLUSTER)
    result = run(tmp_path, "-rA", "test_fixture.py", env={"COLUMNS": "200"})
    out = result.stdout
    # The handler threads run until the fixture's teardown cleans the network up.
    assert "PASSED test_fixture.py::test_a_fixtures_cluster_is_checked_after_its_teardown" \
        in out, out
    assert ("ERROR at teardown of test_a_fixtures_cluster_left_open_leaves_its_threads"
            in out), out
    assert "still running 1 s after the test ended: labrpc-handler" in out, out


def test_the_header_names_the_lab_options_that_are_on(tmp_path: Path) -> None:
    (tmp_path / "test_one.py").write_text("def test_one():\n    pass\n")
    plain = run(tmp_path, "test_one.py").stdout
    assert "raft lab:" not in plain
    on = run(tmp_path, "test_one.py", "--race", "--no-monitors", "--timeline=pages").stdout
    (header,) = [line for line in on.splitlines() if line.startswith("raft lab:")]
    assert header == (f"raft lab: race checker on; monitors off; timeline pages go to "
                      f"{tmp_path / 'pages'} (failing tests)")
    assert (f"timeline: no page written into {tmp_path / 'pages'}: no test failed "
            "(--timeline-all draws passing tests too)") in on


LAB_SETTINGS = "[tool:pytest]\npython_functions = Test*\n"


@pytest.mark.parametrize("option", ["--timeline", "--record-failed", "--sim-results"])
def test_a_path_option_in_two_words_that_misleads_pytest_fails_naming_the_fix(
        tmp_path: Path, option: str) -> None:
    lab = tmp_path / "lab"
    lab.mkdir()
    (lab / "setup.cfg").write_text(LAB_SETTINGS)
    (lab / "test_lab.py").write_text("def TestOne2A(t):\n    pass\n")
    (tmp_path / "pages").mkdir()
    misled = run(lab, "-k", "TestOne2A", option, str(tmp_path / "pages"))
    assert misled.returncode == 4, misled.stdout + misled.stderr
    assert f"Write the option as one word: {option}={tmp_path / 'pages'}" in misled.stderr
    assert f"instead of {lab / 'setup.cfg'}" in misled.stderr
    one_word = run(lab, "-k", "TestOne2A", f"{option}={tmp_path / 'pages'}")
    assert one_word.returncode == 0 and "1 passed" in one_word.stdout, one_word.stdout


def test_a_path_option_in_two_words_that_misleads_nothing_runs(tmp_path: Path) -> None:
    lab = tmp_path / "lab"
    (lab / "out").mkdir(parents=True)
    (lab / "setup.cfg").write_text(LAB_SETTINGS)
    (lab / "test_lab.py").write_text("def TestOne2A(t):\n    pass\n")
    for value in ("out", "not-yet"):   # inside the tree, or not there yet
        result = run(lab, "-k", "TestOne2A", "--timeline", value)
        assert result.returncode == 0 and "1 passed" in result.stdout, result.stdout


DPRINTF_TEST = '''
from raft.util import DPrintf


def test_prints():
    DPrintf("%-6s S%d T%d %s", "VOTE", 1, 3, "vote for S2")
'''


def test_raft_debug_shows_a_passing_tests_lines_to_the_log_viewer(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "test_dprintf.py").write_text(DPRINTF_TEST)
    quiet = run(tmp_path, "test_dprintf.py")
    assert "vote for S2" not in quiet.stdout
    shown = run(tmp_path, "test_dprintf.py", env={"RAFT_DEBUG": "1"})
    assert "1 passed" in shown.stdout and "vote for S2" in shown.stdout, shown.stdout
    log = tmp_path / "run.log"
    log.write_text(shown.stdout + shown.stderr)
    assert logview.main([str(log), "--no-color"]) == 0
    assert "vote for S2" in capsys.readouterr().out
