"""Grade a student's raft.py against this package's own harness and tests.

    raft-grade path/to/raft.py
    raft-grade path/to/submission/ --part 2A --part 2B --runs 3
    raft-grade raft.py --out /autograder/results/results.json
    raft-grade raft.py --no-monitors        # the Go lab's verdicts: no rule monitors

The submission is a raft.py, or a folder holding one (directly, in raft/, or
in src/raft/). Only that file is taken: labgob, labrpc, the persister, the
harness and the tests are this package's. Each test runs in a fresh process
under --test-timeout (default 120 s), the whole grading under
--total-timeout (default 600 s); with --runs N a test earns its point only if
all N runs pass. Writes Gradescope's results.json and prints a table.

A broken submission never hangs or crashes the grader: a syntax or import
error, an endless loop, threads that outlive Kill(), a test that overruns,
each is a failed test with a one-line reason.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence

# The lab's packages sit beside this one (in src/, or in site-packages when
# installed); found by path, since importing `raft` from a folder holding a
# student's raft.py would import that file instead.
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
LAB_PACKAGES = ("labgob", "labrpc", "labtools", "raft")
TESTS = PACKAGE_ROOT / "raft"
RAFT_TESTS = "test_raft.py"
PARTS = ("2A", "2B", "2C", "2D")
# How long a test process may take to exit after pytest's own timeout
# (at most; never more than the test's own timeout).
EXIT_GRACE_S = 15.0
# How long it may take to exit once pytest has printed its summary.
EXIT_AFTER_SUMMARY_S = 5.0
# pytest -q's last line: "1 failed in 3.21s", "1 passed, 1 warning in 3.0s".
SUMMARY = re.compile(r"^\d+ (passed|failed|error)\b.* in [\d.]+s", re.MULTILINE)
LOG_TAIL_LINES = 40

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

# Runs pytest with the sandbox's packages first on sys.path, whatever is
# installed, so that the submission's raft.py is the one imported.
# Entry-point plugins are off (PYTEST_DISABLE_PLUGIN_AUTOLOAD): the lab's own
# plugin and pytest-timeout are named, and nothing else installed joins in.
RUNNER = "import sys; sys.path.insert(0, 'src'); import pytest; sys.exit(pytest.main(sys.argv[1:]))"
PLUGINS = ["-p", "raft.pytest_plugin", "-p", "pytest_timeout"]
IMPORT_CHECK = "import sys; sys.path.insert(0, 'src'); import raft.raft"


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


def make_sandbox(submission: Path) -> Path:
    """A folder with this package's code and tests, and the student's raft.py."""
    sandbox = Path(tempfile.mkdtemp(prefix="raft-grade-"))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in LAB_PACKAGES:
        shutil.copytree(PACKAGE_ROOT / package, sandbox / "src" / package, ignore=ignore)
    shutil.copyfile(submission, sandbox / "src" / "raft" / "raft.py")
    (sandbox / "pytest.ini").write_text(PYTEST_INI)
    return sandbox


def _run(command: List[str], cwd: Path, timeout: float) -> "tuple[Optional[int], str]":
    """Run command in its own process group; kill it all at the timeout.

    Once pytest has printed its summary the process gets EXIT_AFTER_SUMMARY_S
    to exit (threads left running would keep it alive). Returns the exit
    code (None if it had to be killed) and the output.
    """
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            command, cwd=cwd, stdout=output, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
            env=dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"),
        )
        deadline = time.monotonic() + timeout
        code: Optional[int] = None
        while True:
            try:
                code = process.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                pass
            if deadline - time.monotonic() > EXIT_AFTER_SUMMARY_S:
                output.seek(0)
                if SUMMARY.search(output.read().decode(errors="replace")):
                    deadline = time.monotonic() + EXIT_AFTER_SUMMARY_S
            if time.monotonic() >= deadline:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                break
        output.seek(0)
        return code, output.read().decode(errors="replace")


def _reason(output: str) -> str:
    """One line that says why a test failed (a broken Raft rule, quoted, first)."""
    lines = output.splitlines()
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    for line in errors:
        if "Raft rule broken:" in line or "applyCh deadlock:" in line:
            return line[line.index("Raft rule broken:" if "Raft rule broken:" in line
                                   else "applyCh deadlock:"):]
    for line in errors:
        if re.search(r"(Error|Exception|Failure|Failed|Timeout)\b", line):
            return line
    if errors:
        return errors[0]
    summary = [line for line in lines if line.startswith(("FAILED", "ERROR"))]
    return summary[0] if summary else (lines[-1] if lines else "no output")


def _tail(output: str) -> str:
    return "\n".join(output.splitlines()[-LOG_TAIL_LINES:])


def import_problem(sandbox: Path) -> Optional[str]:
    """Why the submission cannot be imported, or None."""
    code, output = _run([sys.executable, "-c", IMPORT_CHECK], sandbox, timeout=30)
    if code == 0:
        return None
    if code is None:
        return "importing raft.py did not finish within 30 s"
    last = [line for line in output.splitlines() if line.strip()]
    return f"raft.py cannot be imported: {last[-1] if last else 'no output'}"


def run_test(sandbox: Path, name: str, test_timeout: float) -> Outcome:
    command = [
        sys.executable, "-c", RUNNER, "-q", "-p", "no:cacheprovider", *PLUGINS,
        "--timeout", str(test_timeout), f"src/raft/{RAFT_TESTS}::{name}",
    ]
    t0 = time.monotonic()
    limit = test_timeout + min(EXIT_GRACE_S, test_timeout)
    code, output = _run(command, sandbox, limit)
    seconds = time.monotonic() - t0
    passed_lines = [line.strip() for line in output.splitlines() if "... Passed --" in line]
    if code == 0:
        return Outcome(name, True, seconds, "", "\n".join(passed_lines) or "passed")
    summary = SUMMARY.search(output)
    if code is None and summary is None:
        reason = f"did not finish within {limit:.0f} s (the test's limit is {test_timeout:.0f} s)"
    elif code is None and not re.search(r"\b(failed|errors?)\b", summary.group(0)):
        reason = "the test passed, but its process did not exit: threads still running"
    else:
        reason = _reason(output)
    return Outcome(name, False, seconds, reason, f"{reason}\n\n{_tail(output)}")


def grade(submission: Path, parts: Sequence[str], runs: int, test_timeout: float,
          total_timeout: float, only: Sequence[str] = ()) -> Grading:
    names = [n for n in tests_of(parts) if not only or n in only]
    sandbox = make_sandbox(find_submission(submission))
    grading = Grading()
    t0 = time.monotonic()
    try:
        problem = import_problem(sandbox)
        for name in names:
            if problem:
                grading.outcomes.append(Outcome(name, False, 0.0, problem, problem))
                continue
            outcome: Optional[Outcome] = None
            for run in range(1, runs + 1):
                left = total_timeout - (time.monotonic() - t0)
                if left <= 0:
                    reason = f"not run: the {total_timeout:.0f} s grading budget was used up"
                    outcome = Outcome(name, False, 0.0, reason, reason, run - 1)
                    break
                outcome = run_test(sandbox, name, min(test_timeout, left))
                outcome.runs = run
                if not outcome.passed:
                    if runs > 1:
                        outcome.reason = f"run {run} of {runs}: {outcome.reason}"
                    break
            grading.outcomes.append(outcome)
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)
    grading.seconds = time.monotonic() - t0
    return grading


def results_json(grading: Grading) -> dict:
    """Gradescope's results format: one point a test."""
    tests = [
        {
            "name": outcome.name,
            "score": 1 if outcome.passed else 0,
            "max_score": 1,
            "status": "passed" if outcome.passed else "failed",
            "output": outcome.output,
        }
        for outcome in grading.outcomes
    ]
    return {
        "score": sum(test["score"] for test in tests),
        "execution_time": round(grading.seconds, 1),
        "tests": tests,
    }


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


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="raft-grade",
        description="Grade a student's raft.py with this package's harness and tests.",
    )
    parser.add_argument("submission", type=Path, help="a raft.py, or a folder holding one")
    parser.add_argument("--part", action="append", choices=PARTS,
                        help="a part to grade (repeatable; default 2A)")
    parser.add_argument("--test", action="append", default=[],
                        help="grade only this test (repeatable)")
    parser.add_argument("--runs", type=int, default=1,
                        help="runs a test must pass to earn its point (default 1)")
    parser.add_argument("--test-timeout", type=float, default=120.0,
                        help="seconds a test may take (default 120)")
    parser.add_argument("--total-timeout", type=float, default=600.0,
                        help="seconds the whole grading may take (default 600)")
    parser.add_argument("--no-monitors", action="store_true",
                        help="do not check Raft's rules on every RPC: the Go lab's verdicts")
    parser.add_argument("--out", type=Path, default=Path("results.json"),
                        help="where to write Gradescope's results.json (default ./results.json)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
    if not (TESTS / RAFT_TESTS).is_file():
        parser.error(f"the grader needs this package's tests, not found at {TESTS}")
    try:
        find_submission(args.submission)
    except FileNotFoundError as err:
        parser.error(str(err))
    parts = args.part or (list(PARTS) if args.test else ["2A"])
    unknown = [name for name in args.test if name not in tests_of(PARTS)]
    if unknown:
        parser.error(f"no such test: {', '.join(unknown)}")

    if args.no_monitors:
        os.environ["RAFT_MONITORS"] = "0"  # read by the tests' processes
    grading = grade(args.submission, parts, args.runs, args.test_timeout,
                    args.total_timeout, args.test)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results_json(grading), indent=2) + "\n")
    print(table(grading))
    print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
