"""The grading core: a submission's tests, each run in the sandbox and judged.

    grading = grade(submission, parts, runs, test_timeout, total_timeout,
                    only=(), isolation=None, progress=print_progress, sim_seeds=0)
    grading.outcomes                 -- [Outcome(name, passed, seconds, reason, output, runs)]
    find_submission(path)            -- the raft.py a file or folder names
    tests_of(["2A"])                 -- the Go-named tests of those parts, in file order
    run_test(make_sandbox(raft_py), "TestInitialElection2A", 120.0)  -- one Outcome
    table(grading)                   -- the table raft-grade prints
    LAB_PACKAGES, PYTEST_INI, PLUGINS -- what a test process is given

The submission is one raft.py: labgob, labrpc, the persister, the harness
and the tests are this package's. Each test runs in a fresh process
(labstaff.sandbox) under test_timeout, the whole grading under
total_timeout; with runs N a test earns its point only if all N runs pass.

A broken submission never hangs or crashes the grader: a syntax or import
error, an endless loop, threads that outlive Kill(), a test that overruns,
each is a failed test with a one-line reason and its detail (labstaff.reasons).

Nor can it forge a grade (labstaff.sandbox and labstaff.isolation run it):
a test passes only on the harness's own report, sent after its last check
over a channel the submission is not told about (labstaff.channel,
labstaff.verdict), never on an exit status; a submission that changes the
harness fails with "the submission changed the test harness"; as root, the
tests run as an unprivileged user that can write none of the harness, the
tests, the results or the grader. docs/grader-defences.md says what is
defended and what is not.

The commands (raft-grade = labstaff.grade, the bundle's labstaff.autograder,
labstaff.bundle's leaderboard reference) all grade through this module.
"""

from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence

from labstaff import reasons
from labstaff.channel import HARNESS_CHANGED, HARNESS_CHANGED_WORD
from labstaff.isolation import Isolation
from labstaff.sandbox import EXIT_AFTER_VERDICT_S, Sandbox

# The lab's packages sit beside this one (in src/, or in site-packages when
# installed); found by path, since importing `raft` from a folder holding a
# student's raft.py would import that file instead.
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
# Every package the test process imports: the lab's, and this one for its
# verdict plugin (labstaff.verdict, labstaff.integrity).
LAB_PACKAGES = ("labenv", "labgob", "labrpc", "labsim", "racecheck", "monitors", "labtest",
                "raft", "labtools", "labstaff")
TESTS = PACKAGE_ROOT / "raft"
RAFT_TESTS = "test_raft.py"
# How long a test process may take to exit after pytest's own timeout
# (at most; never more than the test's own timeout).
EXIT_GRACE_S = 15.0
# A hung test's thread stacks are dumped (faulthandler, from a C thread, so
# even a loop that holds the GIL or swallows pytest-timeout's exception
# shows where it is) this long before its timeout.
STACKS_BEFORE_TIMEOUT_S = 5.0

# The sandbox's pytest settings: the package's own (setup.cfg), restated so
# that nothing from the submission's folder can change them.
PYTEST_INI = """\
[pytest]
python_files = test_*.py
python_functions = Test* test_*
python_classes =
filterwarnings =
    error::pytest.PytestUnhandledThreadExceptionWarning
"""

# The sandbox runs pytest with its packages first on sys.path, whatever is
# installed, so that the submission's raft.py is the one imported.
# Entry-point plugins are off (PYTEST_DISABLE_PLUGIN_AUTOLOAD): the lab's own
# plugin and pytest-timeout are named, and nothing else installed joins in.
PLUGINS = ["-p", "labstaff.verdict", "-p", "labtest.pytest_plugin",
           "-p", "labtools.timeline_plugin", "-p", "pytest_timeout"]
IMPORT_CHECK = "import raft.raft"


@dataclass
class Outcome:
    name: str
    passed: bool
    seconds: float
    reason: str = ""
    output: str = ""
    runs: int = 0


@dataclass
class Grading:
    outcomes: List[Outcome] = field(default_factory=list)
    seconds: float = 0.0


def find_submission(path: Path) -> Path:
    """The raft.py a submission path names."""
    if path.is_file():
        return path
    candidates = (path / "raft.py", path / "raft" / "raft.py", path / "src" / "raft" / "raft.py")
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"no raft.py in {path} (looked in it, in raft/ and in src/raft/)"
    )


def tests_of(parts: Sequence[str]) -> List[str]:
    """The Go-named tests of the given parts, in file order."""
    source = (TESTS / RAFT_TESTS).read_text()
    names = re.findall(r"^def (Test\w+?(2[A-D]))\(", source, flags=re.MULTILINE)
    return [name for name, part in names if part in parts]


def make_sandbox(submission: Path, isolation: Optional[Isolation] = None) -> Sandbox:
    """A folder with this package's code and tests, and the student's raft.py."""
    return Sandbox(submission, PACKAGE_ROOT, LAB_PACKAGES, PYTEST_INI,
                   isolation or Isolation.for_this_process())


def import_problem(sandbox: Sandbox) -> Optional[str]:
    """Why the submission cannot be imported, or None."""
    run = sandbox.run_python(IMPORT_CHECK, timeout=30)
    if run.status == 0:
        return None
    if run.status is None:
        return "importing raft.py did not finish within 30 s"
    output = run.output.replace(f"{sandbox.src.parent}{os.sep}", "")
    last = [line for line in output.splitlines() if line.strip()]
    cause = f"raft.py cannot be imported: {last[-1] if last else 'no output'}"
    return f"{reasons.clip(cause, reasons.LINE_CHARS)}\n\n{reasons.clip(output)}"


def run_test(sandbox: Sandbox, name: str, test_timeout: float,
             sim_seeds: int = 0) -> Outcome:
    """One test in a fresh process; passed only if the harness says so.

    The harness's verdict comes over the sandbox's channel; the exit status
    only explains a test that ended before its verdict.
    """
    stacks_at = max(test_timeout - STACKS_BEFORE_TIMEOUT_S, 0.8 * test_timeout)
    args = ["-q", "-p", "no:cacheprovider", *PLUGINS, "--timeout", str(test_timeout),
            "-o", f"faulthandler_timeout={stacks_at:.1f}",
            str(sandbox.src / "raft" / f"{RAFT_TESTS}::{name}")]
    if sim_seeds:
        # Under the simulation: seeds 1..N, the same on every regrade.
        args += ["--sim", f"--sim-seeds=1-{sim_seeds}"]
    limit = test_timeout + min(EXIT_GRACE_S, test_timeout)
    run = sandbox.run_test(args, name, limit)
    output, verdict = run.output, run.verdict
    tampered = sandbox.tampered()
    if verdict is not None and verdict.passed and run.status is not None and not tampered:
        passed_lines = [line.strip() for line in output.splitlines() if "... Passed --" in line]
        return Outcome(name, True, run.seconds, "", "\n".join(passed_lines) or "passed")
    why = reasons.explain(output, hung=verdict is None and run.status is None)
    if tampered:
        sandbox.restore()
        why.cause = f"{HARNESS_CHANGED}: {', '.join(tampered)} (files in the grader's sandbox)"
    elif verdict is not None and verdict.word == HARNESS_CHANGED_WORD:
        why.cause = f"{HARNESS_CHANGED}: {verdict.detail.replace(',', ', ')}"
    elif verdict is not None and verdict.passed:
        why.cause = (f"the test passed, but its process had not exited "
                     f"{EXIT_AFTER_VERDICT_S:g} s later; where it was: "
                     f"{reasons.at_exit(run.stacks)}")
    elif verdict is None and run.status is None:
        reason = f"did not finish within {limit:.0f} s (the test's limit is {test_timeout:.0f} s)"
        why.cause = f"{reason}; {why.cause}"
    elif verdict is None:
        why.cause = f"the test process {run.ending()} before the test finished"
    elif verdict.detail:
        why.cause = verdict.detail
    failed_seeds = re.findall(r"^\S+ seed (\d+): pytest --sim", output, flags=re.MULTILINE)
    if failed_seeds:
        why.cause = f"failed with seed(s) {', '.join(failed_seeds)}: {why.cause}"
    return Outcome(name, False, run.seconds, why.cause, why.text())


def grade(submission: Path, parts: Sequence[str], runs: int, test_timeout: float,
          total_timeout: float, only: Sequence[str] = (),
          isolation: Optional[Isolation] = None,
          progress: Optional[Callable[[int, int, Outcome], None]] = None,
          sim_seeds: int = 0) -> Grading:
    """Grade submission; progress(done, total, outcome) is called after each test."""
    names = [n for n in tests_of(parts) if not only or n in only]
    sandbox = make_sandbox(find_submission(submission), isolation)
    grading = Grading()
    t0 = time.monotonic()
    try:
        problem = import_problem(sandbox)
        for name in names:
            if problem:
                grading.outcomes.append(Outcome(name, False, 0.0, problem.splitlines()[0],
                                                problem))
                continue
            outcome: Optional[Outcome] = None
            for run in range(1, runs + 1):
                left = total_timeout - (time.monotonic() - t0)
                if left <= 0:
                    reason = f"not run: the {total_timeout:.0f} s grading budget was used up"
                    outcome = Outcome(name, False, 0.0, reason, reason, run - 1)
                    break
                outcome = run_test(sandbox, name, min(test_timeout, left), sim_seeds)
                outcome.runs = run
                if not outcome.passed:
                    if runs > 1:
                        outcome.reason = f"run {run} of {runs}: {outcome.reason}"
                    break
            grading.outcomes.append(outcome)
            if progress is not None:
                progress(len(grading.outcomes), len(names), outcome)
    finally:
        sandbox.close()
    grading.seconds = time.monotonic() - t0
    return grading


def attach_timelines(grading: Grading, folder: Path, since: float) -> None:
    """Name each failed test's timeline page (its pytest run wrote it) in its output."""
    for outcome in grading.outcomes:
        page = folder / f"{outcome.name}.html"
        if not outcome.passed and page.is_file() and page.stat().st_mtime >= since:
            outcome.output += f"\n\ntimeline page: {page}"


def table(grading: Grading) -> str:
    width = max([len(o.name) for o in grading.outcomes] + [4])
    rows = [f"{'test'.ljust(width)}  result  seconds  why"]
    for outcome in grading.outcomes:
        result = "PASS" if outcome.passed else "FAIL"
        why = "" if outcome.passed else outcome.reason
        rows.append(f"{outcome.name.ljust(width)}  {result:6}  {outcome.seconds:7.1f}  {why}")
    score = sum(o.passed for o in grading.outcomes)
    rows.append(f"score: {score}/{len(grading.outcomes)} in {grading.seconds:.1f} s")
    return "\n".join(rows)


def print_progress(done: int, total: int, outcome: Outcome) -> None:
    verdict = "PASS" if outcome.passed else f"FAIL  {outcome.reason}"
    print(f"[{done}/{total}] {outcome.name}  {outcome.seconds:.1f} s  {verdict}",
          file=sys.stderr, flush=True)
