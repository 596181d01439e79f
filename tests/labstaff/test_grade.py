"""raft-grade: correct and broken submissions, graded."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOLUTION = REPO / "src" / "raft" / "raft.py"
MAKE = "    rf = Raft(peers, me, persister, applyCh)\n"


def submission(tmp_path: Path, name: str, patch: str = "", replace: str = MAKE) -> Path:
    """The solution's raft.py with `patch` put before Make's first line."""
    text = SOLUTION.read_text()
    assert replace in text
    path = tmp_path / name / "raft.py"
    path.parent.mkdir()
    path.write_text(text.replace(replace, patch + replace))
    return path


def grade(path: Path, tmp_path: Path, *args: str) -> "tuple[dict, str]":
    out = tmp_path / "results.json"
    result = subprocess.run(
        [sys.executable, "-m", "labstaff.grade", str(path), "--out", str(out), *args],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(out.read_text()), result.stdout


def test_the_solution_earns_its_points(tmp_path: Path) -> None:
    results, table = grade(submission(tmp_path, "good"), tmp_path,
                           "--test", "TestInitialElection2A", "--runs", "2")
    assert results["score"] == 1
    (test,) = results["tests"]
    assert test["status"] == "passed" and test["max_score"] == 1
    assert "Passed --" in test["output"]
    assert "execution_time" in results
    assert "TestInitialElection2A  PASS" in table


def test_syntax_and_import_errors_fail_every_test_with_the_reason(tmp_path: Path) -> None:
    broken = tmp_path / "syntax.py"
    broken.write_text("def Make(:\n")
    results, _ = grade(broken, tmp_path)
    assert results["score"] == 0 and len(results["tests"]) == 3
    assert all("SyntaxError" in test["output"] for test in results["tests"])

    missing = submission(tmp_path, "imports", replace="from labrpc import ClientEnd\n",
                         patch="import no_such_module  # noqa\n")
    results, table = grade(missing, tmp_path, "--test", "TestReElection2A")
    assert "No module named 'no_such_module'" in results["tests"][0]["output"]
    assert "FAIL" in table


def test_an_endless_loop_is_a_failed_test_not_a_hang(tmp_path: Path) -> None:
    looping = submission(tmp_path, "loop", "    while True:\n        pass\n")
    results, _ = grade(looping, tmp_path, "--test", "TestInitialElection2A",
                       "--test-timeout", "3")
    (test,) = results["tests"]
    assert test["status"] == "failed"
    assert "Timeout" in test["output"].splitlines()[0]


def test_a_test_that_overruns_even_its_timeout_is_killed(tmp_path: Path) -> None:
    stubborn = (
        "    while True:  # swallows pytest-timeout's exception too\n"
        "        try:\n"
        "            time.sleep(0.1)\n"
        "        except BaseException:\n"
        "            pass\n"
    )
    t0 = time.monotonic()
    results, _ = grade(submission(tmp_path, "stubborn", stubborn), tmp_path,
                       "--test", "TestInitialElection2A", "--test-timeout", "2")
    (test,) = results["tests"]
    assert test["status"] == "failed"
    assert test["output"].startswith("**Failed:** did not finish within 4 s")
    assert time.monotonic() - t0 < 30


def test_threads_that_outlive_kill_fail_the_test(tmp_path: Path) -> None:
    leak = (
        "    def _forever() -> None:\n"
        "        while True:\n"
        "            time.sleep(0.05)\n"
        "    threading.Thread(target=_forever, name='student-loop').start()\n"
    )
    results, _ = grade(submission(tmp_path, "leak", leak), tmp_path,
                       "--test", "TestInitialElection2A", "--test-timeout", "30")
    (test,) = results["tests"]
    assert test["status"] == "failed"
    assert "student-loop" in test["output"].splitlines()[0]


def test_bad_arguments_are_usage_errors(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "labstaff.grade", str(tmp_path)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "no raft.py in" in result.stderr


def test_a_handler_that_raises_shows_its_exception(tmp_path: Path) -> None:
    raises = submission(tmp_path, "handler", "            [][args.Term]\n",
                        replace="            if args.Term < self.currentTerm:\n"
                                "                return\n            if self.votedFor")
    results, table = grade(raises, tmp_path, "--test", "TestInitialElection2A",
                           "--test-timeout", "30")
    (test,) = results["tests"]
    first = test["output"].splitlines()[0]
    assert first.startswith("**Failed:** RPC handler Raft.RequestVote raised IndexError: "
                            "list index out of range at raft.py line")
    assert "[][args.Term]" in test["output"]  # the student's line, from the traceback
    assert "ExceptionGroup" not in test["output"] and "TestFailure" not in first


def test_a_thread_that_raises_shows_its_exception_and_name(tmp_path: Path) -> None:
    raises = submission(tmp_path, "thread", "        raise KeyError('no such peer')\n",
                        replace="        while not self.killed():")
    results, _ = grade(raises, tmp_path, "--test", "TestInitialElection2A",
                       "--test-timeout", "30")
    (test,) = results["tests"]
    first = test["output"].splitlines()[0]
    assert "raft-S" in first and "-ticker raised KeyError: 'no such peer'" in first
    assert "in 2 more" in first


def test_progress_is_printed_as_each_test_ends(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "labstaff.grade", str(SOLUTION), "--out",
         str(tmp_path / "r.json"), "--test", "TestInitialElection2A"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert "[1/1] TestInitialElection2A" in result.stderr and "PASS" in result.stderr
