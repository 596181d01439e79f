"""Time to find each catalogued bug: real-time stress against the simulation.

    python -m benchmarks.find_bugs                      every bug, default caps
    python -m benchmarks.find_bugs equal_timeouts --cap-real 300 --cap-sim 120
    python -m benchmarks.find_bugs --strategies random,pct,random-noperturb
    python -m benchmarks.find_bugs --strategies ""      only the real-time column
    python -m benchmarks.find_bugs --no-real            only the simulation's
    python -m benchmarks.find_bugs --skip race_         every bug but the race checker's
    python -m benchmarks.find_bugs --no-monitors        the Go tests' verdicts only

For each bug in tests/bugs (the solution with one small edit), the
tests of the bug's part run in a sandbox (as the grader builds one) until
the first failing run, with at most two processes at a time:
  real      `pytest -x -k PART` in two processes, restarted until one fails
  random    `pytest --sim --sim-seeds A-B -x -k PART` (two processes, each
  pct       taking the next block of 10 seeds when its block passes), by
            strategy; random-noperturb: no time perturbation
The figure is the wall time until the first failure, or "> cap" if none
failed within the cap. Prints a table; the last lines give the median
time to find per column (a bug not found counts as its cap).
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from tests.bugs import PLUGINS, RUNNER, catalogue

ROOT = Path(__file__).resolve().parents[1]


# Seeds a process runs (each seed runs every test of the part, test by
# test); then the next process takes the next block of seeds.
SEEDS_PER_PROCESS = 10


def _start(command: List[str], sandbox: Path) -> Tuple[subprocess.Popen, object]:
    output = tempfile.TemporaryFile()
    # A wide terminal, so that pytest's summary line keeps the whole message.
    env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", COLUMNS="400")
    env.pop("RAFT_DEBUG", None)
    process = subprocess.Popen(command, cwd=sandbox, stdout=output, stderr=subprocess.STDOUT,
                               start_new_session=True, env=env)
    return process, output


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _race(next_command: Callable[[], List[str]], sandbox: Path,
          cap: float) -> Tuple[Optional[float], int, str]:
    """Run two commands side by side, each replaced by the next when it
    passes, until one fails; (seconds to the failure or None, runs, its output)."""
    t0 = time.monotonic()
    running = []
    for _ in range(2):
        cmd = next_command()
        running.append((cmd, *_start(cmd, sandbox)))
    runs = 0
    try:
        while time.monotonic() - t0 < cap:
            time.sleep(0.05)
            for i, (cmd, process, output) in enumerate(running):
                code = process.poll()
                if code is None:
                    continue
                runs += 1
                if code != 0:
                    output.seek(0)
                    text = output.read().decode(errors="replace")
                    return time.monotonic() - t0, runs, text
                output.close()
                cmd = next_command()
                running[i] = (cmd, *_start(cmd, sandbox))
        return None, runs, ""
    finally:
        for _, process, output in running:
            _stop(process)


def _summary(text: str) -> str:
    """The first failed test and its message, without the exception's class."""
    for line in text.splitlines():
        if line.startswith(("FAILED", "ERROR")):
            head, _, message = line.partition(" - ")
            message = re.sub(r"^[\w.]+(Error|Failure|Limit|Exception|Deadlock)\w*: ", "",
                             message)
            return f"{head.rpartition('::')[2]}: {message}"[:150]
    return ""


def measure(bug_name: str, part: str, sandbox: Path, column: str,
            cap: float, monitors: bool = True,
            extra: Tuple[str, ...] = ()) -> Tuple[Optional[float], str]:
    """(seconds to the first failure or None, what failed); extra: more
    pytest arguments (("--race",))."""
    base = [sys.executable, "-c", RUNNER, "-q", "-x", "-p", "no:cacheprovider", *PLUGINS,
            "-k", part, "src/raft/test_raft.py", *([] if monitors else ["--no-monitors"]),
            *extra]
    if column == "real":
        found, runs, text = _race(lambda: base, sandbox, cap)
        detail = f"{runs} runs"
    else:
        strategy, _, variant = column.partition("-")
        extra = ["--sim-perturb=0"] if variant == "noperturb" else []
        blocks = itertools.count()

        def next_block() -> List[str]:
            first = next(blocks) * SEEDS_PER_PROCESS + 1
            return [*base, "--sim", f"--sim-strategy={strategy}", *extra,
                    f"--sim-seeds={first}-{first + SEEDS_PER_PROCESS - 1}"]
        found, runs, text = _race(next_block, sandbox, cap)
        detail = ""
        for line in text.splitlines():
            if " seed " in line and "--sim-seed" in line:
                detail = line.split(": ", 1)[-1].strip()
                break
    return found, f"{detail} {_summary(text)}".strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bugs", nargs="*", help="bug names (default: all)")
    parser.add_argument("--cap-real", type=float, default=300.0,
                        help="seconds of real-time stress per bug (default 300)")
    parser.add_argument("--cap-sim", type=float, default=120.0,
                        help="seconds of simulation per bug and strategy (default 120)")
    parser.add_argument("--strategies", default="random,pct",
                        help="simulation columns: random, pct, random-noperturb, pct-noperturb")
    parser.add_argument("--no-real", action="store_true",
                        help="leave out the real-time column")
    parser.add_argument("--no-monitors", action="store_true",
                        help="the Go lab's verdicts only (the monitors are on by default)")
    parser.add_argument("--skip", default="",
                        help="leave out the bugs whose names start with this (e.g. race_)")
    args = parser.parse_args()
    strategies = [c.strip() for c in args.strategies.split(",") if c.strip()]
    columns = ([] if args.no_real else ["real"]) + strategies
    caps = {c: (args.cap_real if c == "real" else args.cap_sim) for c in columns}
    times: Dict[str, List[float]] = {c: [] for c in columns}
    print(f"time to the first failing run (s), 2 processes; caps: real {args.cap_real:.0f} s, "
          f"simulation {args.cap_sim:.0f} s; monitors {'off' if args.no_monitors else 'on'}",
          flush=True)
    print("| bug | part | " + " | ".join(columns) + " |")
    print("|---|---|" + "---|" * len(columns), flush=True)
    bugs = [bug for bug in catalogue(args.bugs)
            if not (args.skip and bug.name.startswith(args.skip))]
    if not columns or not bugs:
        parser.error("nothing to measure: no column or no bug left")
    for bug in bugs:
        folder = Path(tempfile.mkdtemp(prefix=f"bug-{bug.name}-"))
        sandbox = bug.lab_tree(folder)
        cells = []
        details = []
        for column in columns:
            found, detail = measure(bug.name, bug.part, sandbox, column, caps[column],
                                    monitors=not args.no_monitors)
            times[column].append(found if found is not None else caps[column])
            cells.append(f"{found:.1f}" if found is not None else f"> {caps[column]:.0f}")
            details.append(f"    {column}: {detail}")
        print(f"| {bug.name} | {bug.part} | " + " | ".join(cells) + " |", flush=True)
        print("\n".join(details), file=sys.stderr, flush=True)
    print("| median | | " + " | ".join(f"{statistics.median(times[c]):.1f}" for c in columns)
          + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
