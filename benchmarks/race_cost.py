"""What the race checker costs: CPU time of the 2A tests with --race against plain.

    python -m benchmarks.race_cost [--runs 2] [-k 2A]

Runs `pytest -k 2A` and `pytest -k 2A --race` alternately (--runs pairs) in
this run, and prints each process's CPU seconds (user + system, from
wait4) and wall seconds, then the medians and the ratio race/plain. The
tests mostly sleep, so wall time hardly moves; CPU time is the cost. Lists
and dicts in the peers' attributes are watched under --race, so the figure
includes them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Tuple

REPO = Path(__file__).resolve().parent.parent


def run(k: str, race: bool) -> Tuple[float, float, bool]:
    """(CPU seconds, wall seconds, passed) of one pytest process."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", k,
               "src/raft/test_raft.py"] + (["--race"] if race else [])
    t0 = time.monotonic()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, env=dict(os.environ, RAFT_RACE=""))
    process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime, time.monotonic() - t0, process.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="pairs of runs (default 2)")
    parser.add_argument("-k", default="2A", help="pytest -k expression (default 2A)")
    args = parser.parse_args()
    cpu: dict = {False: [], True: []}
    wall: dict = {False: [], True: []}
    for i in range(args.runs):
        for race in (False, True):
            seconds, elapsed, passed = run(args.k, race)
            cpu[race].append(seconds)
            wall[race].append(elapsed)
            label = "--race" if race else "plain "
            status = "" if passed else "  (FAILED)"
            print(f"run {i + 1} {label}  CPU {seconds:5.2f} s  wall {elapsed:5.1f} s{status}")
    plain: List[float] = cpu[False]
    race_cpu: List[float] = cpu[True]
    ratio = statistics.median(race_cpu) / statistics.median(plain)
    print(f"-k {args.k}: CPU median plain {statistics.median(plain):.2f} s, --race "
          f"{statistics.median(race_cpu):.2f} s: {ratio:.1f}x; wall median "
          f"{statistics.median(wall[False]):.1f} s against {statistics.median(wall[True]):.1f} s")


if __name__ == "__main__":
    main()
