"""raft-starter: the student's tree, cut from the solution."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from labstaff.starter import MarkError, cut

REPO = Path(__file__).resolve().parent.parent
RUNNER = "import sys; sys.path.insert(0, 'src'); import pytest; sys.exit(pytest.main(sys.argv[1:]))"


def test_starter_election_tests_fail_as_the_assignment_shows(tmp_path: Path) -> None:
    out = tmp_path / "starter"
    made = subprocess.run([sys.executable, "-m", "labstaff.starter", str(out)],
                          capture_output=True, text=True, cwd=REPO, timeout=60)
    assert made.returncode == 0, made.stderr
    skeleton = (out / "src/raft/raft.py").read_text()
    assert "# Your code here (2A)." in skeleton
    assert "SOLUTION" not in skeleton and "STARTER:" not in skeleton
    assert "_become_leader_locked" not in skeleton
    assert not (out / "src/labstaff").exists()

    result = subprocess.run(
        [sys.executable, "-c", RUNNER, "-q", "-p", "no:cacheprovider", "-k", "2A"],
        capture_output=True, text=True, cwd=out, timeout=120,
    )
    assert result.returncode == 1, result.stdout
    assert result.stdout.count("expected one leader, got none") >= 3, result.stdout
    assert "3 failed" in result.stdout


def test_marks_that_do_not_pair_up_are_errors_naming_the_line() -> None:
    with pytest.raises(MarkError, match=r"raft.py:2: # SOLUTION BEGIN is never closed"):
        cut("x = 1\n# SOLUTION BEGIN\ny = 2\n")
    with pytest.raises(MarkError, match=r"raft.py:1: # SOLUTION END without"):
        cut("# SOLUTION END\n")
    solution = (
        "def f():\n    # STARTER: b = 2\n    # SOLUTION BEGIN\n    c = 3\n    # SOLUTION END\n"
    )
    assert cut(solution) == "def f():\n    b = 2\n"


def test_export_refuses_a_folder_in_use(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = subprocess.run([sys.executable, "-m", "labstaff.starter", str(tmp_path)],
                            capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 2 and "exists and is not empty" in result.stderr
