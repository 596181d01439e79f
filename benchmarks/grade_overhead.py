"""What the forgery defences cost: grading the solution, old path against new.

    python benchmarks/grade_overhead.py [--rounds 5] [--part 2A]

Each round grades the solution's raft.py twice, in alternating order:
  old   the grader before the defences, rebuilt here: a copy of the lab in a
        temp folder, the import check, then each test in a fresh
        `python -c RUNNER` pytest process, judged by its exit status;
  new   labstaff.grade.grade(): the sandbox (read-only harness, compiled),
        the import check, each test as the sandbox user (as root) with its
        verdict over the channel, the integrity check after every test, the
        file fingerprint, and the sweep of the user's processes.
It prints each round's wall times and the medians, and the new path's
overhead in per cent of the old. Run as root with a Python the sandbox user
can run to measure the whole of it; the first line says which layers ran.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List

from labstaff import grade
from labstaff.sandbox import Isolation

SOLUTION = grade.PACKAGE_ROOT / "raft" / "raft.py"
OLD_RUNNER = ("import sys; sys.path.insert(0, 'src'); import pytest; "
              "sys.exit(pytest.main(sys.argv[1:]))")
OLD_IMPORT_CHECK = "import sys; sys.path.insert(0, 'src'); import raft.raft"


def _old_run(command: List[str], cwd: Path) -> int:
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True,
        env=dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"),
    )
    while True:  # the old grader polled every 0.2 s
        try:
            return process.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            pass


def grade_old(parts: List[str]) -> "tuple[float, int]":
    """The exit-code grader: wall seconds and score."""
    t0 = time.monotonic()
    sandbox = Path(tempfile.mkdtemp(prefix="raft-grade-old-"))
    try:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        for package in grade.LAB_PACKAGES:
            shutil.copytree(grade.PACKAGE_ROOT / package, sandbox / "src" / package,
                            ignore=ignore)
        shutil.copyfile(SOLUTION, sandbox / "src" / "raft" / "raft.py")
        (sandbox / "pytest.ini").write_text(grade.PYTEST_INI)
        assert _old_run([sys.executable, "-c", OLD_IMPORT_CHECK], sandbox) == 0
        score = 0
        for name in grade.tests_of(parts):
            code = _old_run([sys.executable, "-c", OLD_RUNNER, "-q", "-p", "no:cacheprovider",
                             *grade.PLUGINS, "--timeout", "120",
                             f"src/raft/{grade.RAFT_TESTS}::{name}"], sandbox)
            score += code == 0
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)
    return time.monotonic() - t0, score


def grade_new(parts: List[str], isolation: Isolation) -> "tuple[float, int]":
    t0 = time.monotonic()
    grading = grade.grade(SOLUTION, parts, 1, 120.0, 600.0, isolation=isolation)
    return time.monotonic() - t0, sum(outcome.passed for outcome in grading.outcomes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--part", action="append", choices=grade.PARTS)
    args = parser.parse_args()
    parts = args.part or ["2A"]
    isolation = Isolation.for_this_process()
    print(isolation.describe())
    tests = len(grade.tests_of(parts))
    old: List[float] = []
    new: List[float] = []
    print(f"grading the solution, part {'+'.join(parts)} ({tests} tests), "
          f"{args.rounds} rounds")
    print("round    old s   new s   old score  new score")
    for round_ in range(1, args.rounds + 1):
        order = ("old", "new") if round_ % 2 else ("new", "old")
        figures = {}
        for which in order:
            figures[which] = grade_old(parts) if which == "old" else grade_new(parts, isolation)
        old.append(figures["old"][0])
        new.append(figures["new"][0])
        print(f"{round_:5}  {figures['old'][0]:7.2f} {figures['new'][0]:7.2f}"
              f"  {figures['old'][1]:6}/{tests}  {figures['new'][1]:6}/{tests}", flush=True)
    old_median, new_median = statistics.median(old), statistics.median(new)
    print(f"median   {old_median:7.2f} {new_median:7.2f}")
    print(f"mean     {statistics.mean(old):7.2f} {statistics.mean(new):7.2f}")
    print(f"overhead of the new path: {100 * (new_median / old_median - 1):+.1f}% "
          f"(medians), {100 * (statistics.mean(new) / statistics.mean(old) - 1):+.1f}% (means)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
