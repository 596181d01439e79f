"""What the forgery defences cost: grading the solution, old path against new.

    python -m benchmarks.grade_overhead [--rounds 5] [--parts 2A]

Each round grades the solution's raft.py twice, in alternating order:
  old   the grader before the defences, rebuilt here: a copy of the lab in a
        temp folder, the import check, then each test in a fresh
        `python -c RUNNER` pytest process, judged by its exit status;
  new   labstaff.grading.grade(): the sandbox (read-only harness, compiled),
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
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List

from labstaff import grading
from labstaff.isolation import Isolation
from labtools.parts import PartsError, add_parts_option, named_parts

SOLUTION = grading.PACKAGE_ROOT / "raft" / "raft.py"
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
        for package in grading.LAB_PACKAGES:
            shutil.copytree(grading.PACKAGE_ROOT / package, sandbox / "src" / package,
                            ignore=ignore)
        shutil.copyfile(SOLUTION, sandbox / "src" / "raft" / "raft.py")
        (sandbox / "pytest.ini").write_text(grading.PYTEST_INI)
        assert _old_run([sys.executable, "-c", OLD_IMPORT_CHECK], sandbox) == 0
        score = 0
        for name in grading.tests_of(parts):
            code = _old_run([sys.executable, "-c", OLD_RUNNER, "-q", "-p", "no:cacheprovider",
                             *grading.PLUGINS, "--timeout", "120",
                             f"src/raft/{grading.RAFT_TESTS}::{name}"], sandbox)
            score += code == 0
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)
    return time.monotonic() - t0, score


def grade_new(parts: List[str], isolation: Isolation) -> "tuple[float, int]":
    t0 = time.monotonic()
    graded = grading.grade(SOLUTION, parts, 1, 120.0, 600.0, isolation=isolation)
    return time.monotonic() - t0, sum(outcome.passed for outcome in graded.outcomes)


def _cpu() -> float:
    """CPU seconds of this process and its waited-for children (all test processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _measured(job):  # type: ignore[no-untyped-def]
    cpu0 = _cpu()
    seconds, score = job()
    return seconds, _cpu() - cpu0, score


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    add_parts_option(parser, "the parts to grade: 2A,2B, ... (repeatable; default: 2A)")
    args = parser.parse_args()
    try:
        parts = named_parts(args.parts) if args.parts else ["2A"]
    except PartsError as err:
        parser.error(f"--parts: {err}")
    isolation = Isolation.for_this_process()
    print(isolation.describe())
    tests = len(grading.tests_of(parts))
    old: List[float] = []
    new: List[float] = []
    old_cpu: List[float] = []
    new_cpu: List[float] = []
    print(f"grading the solution, part {'+'.join(parts)} ({tests} tests), "
          f"{args.rounds} rounds (wall and CPU seconds; CPU includes every test process)")
    print("round   old wall  new wall   old cpu  new cpu   old score  new score")
    for round_ in range(1, args.rounds + 1):
        order = ("old", "new") if round_ % 2 else ("new", "old")
        figures = {}
        for which in order:
            figures[which] = _measured(
                (lambda: grade_old(parts)) if which == "old" else
                (lambda: grade_new(parts, isolation)))
        old.append(figures["old"][0])
        new.append(figures["new"][0])
        old_cpu.append(figures["old"][1])
        new_cpu.append(figures["new"][1])
        print(f"{round_:5}  {figures['old'][0]:8.2f}  {figures['new'][0]:8.2f}"
              f"  {figures['old'][1]:8.2f} {figures['new'][1]:8.2f}"
              f"  {figures['old'][2]:8}/{tests}  {figures['new'][2]:7}/{tests}", flush=True)
    for label, pick in (("median", statistics.median), ("mean", statistics.mean)):
        wall_old, wall_new = pick(old), pick(new)
        cpu_old, cpu_new = pick(old_cpu), pick(new_cpu)
        print(f"{label:6} {wall_old:8.2f}  {wall_new:8.2f}  {cpu_old:8.2f} {cpu_new:8.2f}"
              f"   wall {100 * (wall_new / wall_old - 1):+.1f}%, "
              f"CPU {100 * (cpu_new / cpu_old - 1):+.1f}%")
    print("the grading time's overhead is the wall figure; the CPU figure is the work added")
    return 0


if __name__ == "__main__":
    sys.exit(main())
