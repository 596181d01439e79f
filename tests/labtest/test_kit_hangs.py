"""Hangs, run as a student runs them: a planted bug in a lab tree, `pytest -x -k 2A`.

Each test copies the lab with the solution's raft.py and one bug from the
catalogue (tests/bugs), runs pytest there in a fresh process (RUNNER, the
lab's plugins, pytest-timeout at the Go tester's 120 s), and checks that
the run ends soon, that the process exits, and that the first lines of
its output name the cause: the lock, the call that holds it, its line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Sequence, Tuple

import pytest

from labtest.hang_plugin import BACKSTOP_S
from tests.bugs import PLUGINS, RUNNER, SOLUTION, catalogue, lab_tree

# The brief's bounds: a hang fails within 30 s, and says why within 40 lines.
FAILS_WITHIN_S = 30.0
CAUSE_WITHIN_LINES = 40
# A failing test's whole output stays below this (pytest-timeout alone: 15,000).
OUTPUT_LINES = 100
# How long a run may take before this test gives up on it (it hangs).
HANG_S = 150


def run_lab(tree: Path, args: Sequence[str], quiet: bool = True) -> Tuple[int, str, float]:
    """(exit status, output, seconds) of pytest in a lab tree, as a student runs it."""
    command = [sys.executable, "-c", RUNNER, *(["-q"] if quiet else []), "-p",
               "no:cacheprovider", *PLUGINS, "--timeout", "120", *args]
    t0 = time.monotonic()
    result = subprocess.run(command, cwd=tree, capture_output=True, text=True, timeout=HANG_S,
                            env=dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"))
    return result.returncode, result.stdout + result.stderr, time.monotonic() - t0


def run_bug(tmp_path: Path, name: str, *args: str) -> Tuple[int, str, float, str]:
    """run_lab for the catalogue's bug name under `-x -k 2A`; and its raft.py."""
    (bug,) = catalogue([name])
    tree = bug.lab_tree(tmp_path / "tree")
    status, output, seconds = run_lab(tree, ["-x", "-k", "2A", *args, "src/raft/test_raft.py"])
    return status, output, seconds, bug.source()


def line_of(source: str, text: str) -> int:
    (number,) = [i for i, line in enumerate(source.splitlines(), 1) if text in line]
    return number


def head(output: str, lines: int = CAUSE_WITHIN_LINES) -> str:
    return "\n".join(output.splitlines()[:lines])


@pytest.mark.parametrize("sim", [[], ["--sim"]], ids=["real-time", "sim"])
def test_a_heartbeat_sent_holding_the_lock_fails_at_once_naming_lock_call_and_line(
        tmp_path: Path, sim: List[str]) -> None:
    status, output, seconds, source = run_bug(tmp_path, "race_call_holding_lock", *sim)
    line = line_of(source, 'ok = self.peers[peer].Call("Raft.AppendEntries", args, reply)')
    first = head(output)
    assert status == 1, output
    assert seconds < FAILS_WITHIN_S, output
    assert re.search(r"lock watchdog: S\d's lock self\.mu has been held for \d+\.\d s by "
                     r"raft-S\d-rpc( #\d+)?, which is blocked in Call\('Raft\.AppendEntries'\) "
                     rf"to S\d, at raft\.py:{line} in _send_append_entries", first), output
    assert len(output.splitlines()) < OUTPUT_LINES, output


@pytest.mark.parametrize("sim", [[], ["--sim"]], ids=["real-time", "sim"])
def test_two_candidates_waiting_for_each_other_fail_and_the_process_exits(
        tmp_path: Path, sim: List[str]) -> None:
    status, output, seconds, source = run_bug(tmp_path, "candidates_deadlock", *sim)
    line = line_of(source, 'if not self.peers[peer].Call("Raft.RequestVote", args, reply):')
    first = head(output)
    assert status == 1, output  # (and it exited: run_lab did not time out)
    assert seconds < FAILS_WITHIN_S, output
    assert re.search(r"lock watchdog: S\d's lock self\.mu has been held for .* which is "
                     rf"blocked in Call\('Raft\.RequestVote'\) to S\d, at raft\.py:{line} ",
                     first), output
    assert re.search(r"These peers wait for each other: S(\d)'s lock is held across a Call "
                     r"to S(\d), whose handler waits for S\2's lock; .*Call can ever return",
                     first), output
    assert "1 failed" in output and len(output.splitlines()) < OUTPUT_LINES, output


def test_a_make_that_never_returns_fails_naming_where_it_is(tmp_path: Path) -> None:
    status, output, seconds, source = run_bug(tmp_path, "make_never_returns")
    first = head(output)
    assert status == 1, output
    assert seconds < FAILS_WITHIN_S, output
    assert "call watchdog: the tester's call S0's Make() has not returned after 10 s: " \
        "MainThread is at raft.py:" in first, output
    assert f"raft.py:{line_of(source, '    rf.ticker()')} in Make: rf.ticker()" in first, output


def test_threads_that_outlive_the_tests_do_not_keep_the_process_alive(
        tmp_path: Path) -> None:
    status, output, seconds, _ = run_bug(tmp_path, "threads_never_end")
    assert status == 1, output
    assert seconds < FAILS_WITHIN_S, output
    assert "3 non-daemon thread(s) still running would keep the test process alive; it " \
        "exits anyway." in output, output
    assert re.search(r"raft-S0-ticker: .*at raft\.py:\d+ in ticker", output), output


HANGING_TEST = '''
import threading

from raft.config import make_config


def test_waits_forever(t):
    with make_config(t, 3, False):
        threading.Event().wait()  # stands for a wait the harness does not bound
'''


@pytest.mark.parametrize("method", ["signal", "thread"])
def test_a_timeout_names_the_threads_that_matter_and_saves_the_rest(
        tmp_path: Path, method: str) -> None:
    tree = lab_tree(tmp_path / "tree", SOLUTION.read_text())
    (tree / "test_hang.py").write_text(HANGING_TEST)
    status, output, seconds = run_lab(tree, ["--timeout", "4", "--timeout-method", method,
                                             "test_hang.py"])
    assert status == 1 and seconds < FAILS_WITHIN_S, output
    assert len(output.splitlines()) < OUTPUT_LINES, output
    assert "timeout: the test ran past its 4 s limit (pytest-timeout). Where it is:\n" \
        "The tester (MainThread) is at:\n" \
        "    test_hang.py:9 in test_waits_forever: threading.Event().wait()" in output, output
    # The tickers sleeping at one line are one group (a ticker caught starting a
    # thread at the alarm is shown apart, in its own group).
    assert re.search(r"raft-S\d-ticker(, raft-S\d-ticker)* at raft\.py:\d+ in ticker",
                     output), output
    (path,) = re.findall(r"Every thread's whole stack: (\S+)", output)
    dump = Path(path).read_text()
    assert "--- thread raft-S2-applier (daemon, " in dump and "in _applier" in dump
    assert "Stack of" not in output  # pytest-timeout's own dump


SWALLOWING_TEST = '''
import threading

from raft.config import make_config


def test_swallows_its_timeout(t):
    with make_config(t, 3, False):
        while True:
            try:
                threading.Event().wait()
            except BaseException:  # stands for a wait that outlives the timeout's failure
                pass
'''


def test_a_test_that_swallows_its_timeout_still_ends_the_process(tmp_path: Path) -> None:
    tree = lab_tree(tmp_path / "tree", SOLUTION.read_text())
    (tree / "test_swallow.py").write_text(SWALLOWING_TEST)
    status, output, seconds = run_lab(tree, ["--timeout", "2", "test_swallow.py"])
    # The alarm at 2 s fails the test in its thread; the test goes on waiting,
    # so the backstop ends the process BACKSTOP_S later, naming where it is.
    assert status == 1, output
    assert BACKSTOP_S < seconds < 2 + BACKSTOP_S + FAILS_WITHIN_S, output
    assert len(output.splitlines()) < OUTPUT_LINES, output
    assert f"timeout: the test did not end {BACKSTOP_S:g} s after its 2 s limit (its " \
        "cleanup hangs too); the process exits. Where it is:\n" \
        "The tester (MainThread) is at:\n" \
        "    test_swallow.py:11 in test_swallows_its_timeout: threading.Event().wait()" \
        in output, output


def test_verbose_shows_every_stack_on_the_terminal(tmp_path: Path) -> None:
    tree = lab_tree(tmp_path / "tree", SOLUTION.read_text())
    (tree / "test_hang.py").write_text(HANGING_TEST)
    status, output, _ = run_lab(tree, ["--timeout", "4", "-v", "test_hang.py"], quiet=False)
    assert status == 1, output
    assert "Every thread's whole stack:\n" in output and "--- thread raft-S0-ticker" in output
