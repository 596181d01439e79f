"""The commands a course uses: the main job and the stress loop."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          cwd=REPO, timeout=timeout)


def test_main_job_prints_a_timeline_and_a_summary() -> None:
    result = run("-m", "labtools.demo", "--peers", "3", "--seconds", "4", "--interval", "2",
                 "--down", "1")
    assert result.returncode == 0, result.stderr
    assert "disconnect leader S" in result.stdout
    assert "elected leader" in result.stdout and "after the failure" in result.stdout
    assert "summary:" in result.stdout and "time to elect: median" in result.stdout


def test_main_job_rejects_bad_options_with_usage() -> None:
    result = run("-m", "labtools.demo", "--peers", "2")
    assert result.returncode == 2
    assert "usage: raft-demo" in result.stderr
    assert "--peers must be at least 3" in result.stderr


def test_stress_keeps_the_output_of_failed_runs(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    # Two runs of a fast test that passes, then two of one that always runs
    # past a 1 s limit (it waits out two election timeouts), its cluster made.
    ok = run("-m", "labtools.stress", "-k", "TestBasic", "-n", "2", "-p", "2",
             "--logs", str(logs))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "stress: 2/2 passed, 0 failed" in ok.stdout
    bad = run("-m", "labtools.stress", "-k", "TestInitialElection", "-n", "2", "-p", "2",
              "--logs", str(logs), "--", "--timeout", "1")
    assert bad.returncode == 1
    assert "0/2 passed, 2 failed" in bad.stdout
    kept = sorted(os.listdir(logs))
    # Each failed run's output, and the record of the test that failed in it.
    assert kept == ["run-0001-records", "run-0001.log", "run-0002-records", "run-0002.log"]
    assert "timeout: the test ran past its" in (logs / "run-0001.log").read_text()


def test_main_job_commands_mode_shows_the_commit_index_advance() -> None:
    result = run("-m", "labtools.demo", "--peers", "3", "--seconds", "3.5", "--interval", "2",
                 "--down", "1", "--commands")
    assert result.returncode == 0, result.stderr
    assert "commit index" in result.stdout
    summary = result.stdout.split("summary:")[1]
    committed = int(summary.split("commands:")[1].split("committed")[0].split(",")[-1])
    assert committed > 10, result.stdout


def test_pytest_k_part_selects_exactly_that_parts_go_tests() -> None:
    # The course grades with `pytest -k 2A`, as Go's `go test -run 2A`: the
    # port's own tests must never match a part's name.
    for part, count in (("2A", 3), ("2B", 8), ("2C", 8), ("2D", 6)):
        result = run("-m", "pytest", "--co", "-q", "-p", "no:cacheprovider", "-k", part)
        chosen = [line for line in result.stdout.splitlines() if "::" in line]
        assert len(chosen) == count, result.stdout
        assert all(line.startswith("src/raft/test_raft.py::Test") and line.endswith(part)
                   for line in chosen), chosen
