"""What a student sees when a lab test fails: the cause first, once, and what to run next.

Each case runs one Go test as a student would, in a lab tree (tests.bugs)
holding the solution with one planted bug, or the raft-starter skeleton:
    a handler that raises         the handler's exception, once, its raft.py line first
    a ticker that ignores Kill()  one failure naming the threads and Kill()
    no election at all            the tester's own message (the skeleton's)
Each failure is under 100 lines, its short summary line starts with the
cause, and its last lines say what to run next.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

from labstaff.skeleton import cut
from tests.bugs import PLUGINS, RUNNER, SOLUTION, catalogue, lab_tree

TESTS = "src/raft/test_raft.py"
MAX_LINES = 100
RUN_TIMEOUT_S = 120


def run(tree: Path, test: str, *options: str,
        env: Optional[Dict[str, str]] = None) -> str:
    """pytest's output for one test of the tree, run as the grader and a student do."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RAFT_")}
    environ.update(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", **(env or {}))
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, "-p", "no:cacheprovider", *PLUGINS, *options,
         "-k", test, TESTS],
        cwd=tree, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, env=environ)
    assert result.returncode == 1, result.stdout + result.stderr
    return result.stdout + result.stderr


def failure(output: str, test: str) -> List[str]:
    """The lines of the test's failure: from its ___ header to the next === line."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"^_+ {test} _+$", line))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("="))
    return lines[start:end]


def summary(output: str, test: str) -> str:
    (line,) = [line for line in output.splitlines()
               if line.startswith(f"FAILED {TESTS}::{test}")]
    return line


def next_steps(block: List[str]) -> List[str]:
    """The block's last lines, after its "what to run next" bar."""
    bar = max(i for i, line in enumerate(block) if "what to run next" in line)
    return block[bar + 1:]


def bug_tree(tmp_path: Path, name: str) -> Path:
    (bug,) = catalogue([name])
    return bug.lab_tree(tmp_path / name)


def test_a_handler_that_raises_is_reported_once_from_its_raft_py_line(tmp_path: Path) -> None:
    test = "TestInitialElection2A"
    # pytest cuts the summary line at the terminal's width: a wide terminal's.
    output = run(bug_tree(tmp_path, "handler_exception"), test, env={"COLUMNS": "200"})
    block = failure(output, test)
    assert len(block) < MAX_LINES, "\n".join(block)
    cause = ("labrpc: handler Raft.RequestVote raised AttributeError: 'RequestVoteArgs' "
             "object has no attribute 'CandidateID'")
    assert summary(output, test) == f"FAILED {TESTS}::{test} - {cause}"
    # Once: no thread's death, no exception group, one traceback.
    assert output.count("args.CandidateID):") == 1, output
    assert "ExceptionGroup" not in output and "Exception in thread" not in output
    assert "1 failed" in output and "error" not in output.splitlines()[-1]
    # The handler's own line first: no labrpc frame before raft.py's.
    frames = [line for line in block if re.match(r'^E?\s+File "', line)]
    assert frames and "/src/raft/raft.py" in frames[0] and "RequestVote" in frames[0]
    assert not any("labrpc" in frame for frame in frames)
    # Neither the harness's source nor pytest's own frames.
    assert not any("config.py" in line or "testing.py" in line for line in block)
    steps = next_steps(block)
    assert steps and all(re.match(r"^[\w ]+: +\S", line) for line in steps), steps
    assert f"RAFT_DEBUG=1 pytest -k {test} 2>&1 | raft-logview" in steps[-2]
    assert steps[-1].endswith(f"pytest -k {test} --timeline=pages")


def test_a_ticker_that_ignores_kill_is_one_failure_naming_the_threads(tmp_path: Path) -> None:
    test = "TestInitialElection2A"
    output = run(bug_tree(tmp_path, "ticker_ignores_kill"), test, env={"COLUMNS": "200"})
    block = failure(output, test)
    assert len(block) < MAX_LINES, "\n".join(block)
    line = summary(output, test)
    assert line.startswith(f"FAILED {TESTS}::{test} - 3 thread(s) still running 1 s after "
                           "the test ended: raft-S0-ticker, raft-S1-ticker, raft-S2-ticker")
    assert line.endswith("Kill() must stop them")
    assert "raft-S0-ticker is at src/raft/raft.py:" in "\n".join(block)
    # One failure, not a pass and an error.
    assert re.search(r"=+ 1 failed, \d+ deselected in ", output.splitlines()[-1]), output
    assert "hidden" not in "\n".join(block)
    assert next_steps(block) == [
        f"DPrintf by peer:  RAFT_DEBUG=1 pytest -k {test} 2>&1 | raft-logview"]


def test_no_election_at_all_gives_the_testers_message_and_the_hunt(tmp_path: Path) -> None:
    test = "TestReElection2A"
    skeleton = cut(SOLUTION.read_text(), parts=["2A"])
    tree = lab_tree(tmp_path / "starter", skeleton)
    output = run(tree, test)
    block = failure(output, test)
    assert len(block) < MAX_LINES, "\n".join(block)
    assert summary(output, test) == f"FAILED {TESTS}::{test} - expected one leader, got none"
    assert "E   expected one leader, got none" in block
    assert not any("config.py" in line or "TestFailure" in line for line in block)
    assert next_steps(block) == [
        f"find a failing seed:  raft-stress --sim -k {test}",
        f"DPrintf by peer:      RAFT_DEBUG=1 pytest -k {test} 2>&1 | raft-logview",
        f"the run as a page:    pytest -k {test} --timeline=pages"]
    assert f"--- FAIL: {test}: expected one leader, got none" in output

    # Under the simulation the first step replays the run, and labsim's own
    # replay section is not repeated in the failure.
    simulated = run(tree, test, "--sim", "--sim-seed", "3")
    block = failure(simulated, test)
    replay = f"pytest --sim --sim-seed 3 -k {test}"
    assert next_steps(block) == [
        f"replay it exactly:  {replay}",
        f"DPrintf by peer:    RAFT_DEBUG=1 {replay} 2>&1 | raft-logview",
        f"the run as a page:  {replay} --timeline=pages"]
    assert "replay with" not in "\n".join(block)
    assert "raft lab: simulation (seed 3, strategy random)" in simulated
