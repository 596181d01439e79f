"""Run tests many times, several at once, to catch the failures that hide.

    raft-stress                    # the 2A tests, 100 runs, 4 at a time
    raft-stress -k 2A -n 500 -p 4
    raft-stress -k "TestReElection2A" -n 50 -- -x --timeout 60
    raft-stress -k 2A --first-failure   # stop all runs at the first failing one

    raft-stress --sim -n 1000 -k 2A  # seeds 1..1000 under the simulation
                                     # (labtools.simstress; --seeds A-B)

Each run is one `pytest -k EXPR` in a fresh process, started in the current
folder (the repository's root, whose setup.cfg names the tests), P at a
time (labtools.pool). A failed run is printed as soon as it ends, with its
log: its full output, with its DPrintf lines (RAFT_DEBUG is on unless
--no-debug), kept in --logs DIR as run-NNNN.log, and the record of each
failed test (the RPCs, the harness's actions, the DPrintf lines and any
broken rule; read it with raft-logview) in run-NNNN-records/.
--first-failure kills the other runs then (and makes each run stop at its
first failing test, -x). Ctrl-C or a SIGTERM kills every run and prints
the summary. Exits 1 if any run failed.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

from labtools.pool import Job, ProcessPool, clock


@dataclass
class _Failure:
    number: int
    at: float  # seconds since the stress run began
    took: float
    reason: str
    log: Path
    records: Optional[Path] = None  # the failed tests' records, if any were saved


def _parse(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="raft-stress",
        description="Run chosen tests N times, P processes at a time, and keep "
        "the output of every failed run.",
        epilog="Arguments after -- go to pytest unchanged.",
    )
    parser.add_argument("-k", dest="expr", default="2A",
                        help="pytest -k expression choosing the tests (default: 2A)")
    parser.add_argument("-n", "--runs", type=int, default=100, help="how many runs (default 100)")
    parser.add_argument("-p", "--parallel", type=int, default=4,
                        help="runs at a time (default 4)")
    parser.add_argument("--logs", type=Path, default=Path("stress-logs"),
                        help="folder for the output of failed runs (default stress-logs)")
    parser.add_argument("--no-debug", action="store_true",
                        help="leave DPrintf off (it is on by default, for the failure logs)")
    parser.add_argument("--race", action="store_true",
                        help="run with the race checker on (RAFT_RACE=1; slower)")
    parser.add_argument("--first-failure", action="store_true",
                        help="stop at the first failing run (with --sim: seed), killing "
                        "the other runs")
    sim = parser.add_argument_group("simulation (labtools.simstress)")
    sim.add_argument("--sim", action="store_true",
                     help="run seeds under the simulation, many to a process (-n N: 1..N)")
    sim.add_argument("--seeds", default=None,
                     help="with --sim: the seeds: N (1..N), A-B, or a comma list (instead of -n)")
    sim.add_argument("--sim-strategy", default="random", choices=("random", "pct"),
                     help="with --sim: the scheduling strategy (default random)")
    sim.add_argument("--batch", type=int, default=100,
                     help="with --sim: seeds to a process (default 100)")
    sim.add_argument("--shrink", action="store_true",
                     help="with --sim: then shrink the first failing seed (pytest --sim-shrink; "
                          "its replay file and page in LOGS/shrunk)")
    argv = list(sys.argv[1:] if argv is None else argv)
    passthrough: List[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, passthrough = argv[:cut], argv[cut + 1:]
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
    if args.parallel < 1:
        parser.error(f"--parallel must be at least 1, got {args.parallel}")
    if args.batch < 1:
        parser.error(f"--batch must be at least 1, got {args.batch}")
    if not Path("setup.cfg").is_file():
        parser.error("no setup.cfg here: run from the repository's root, where pytest "
                     "finds the tests")
    args.pytest_args = passthrough
    return args


def _last_failure_line(text: str) -> str:
    """The most telling line of a failed run's output."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("FAILED ") or line.startswith("ERROR "):
            return line
    return lines[-1] if lines else "(no output)"


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parse(argv)
    # Killed from another terminal: stop like Ctrl-C (every child killed), with a summary.
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    if args.sim:
        from labtools import simstress
        return simstress.run(args)
    command = [
        sys.executable, "-m", "pytest", "-k", args.expr, "-q", "-p", "no:cacheprovider",
        # With --first-failure a run has no use for its tests after the first to fail.
        *(["-x"] if args.first_failure else []), *args.pytest_args,
    ]
    env = dict(os.environ)
    if not args.no_debug:
        env["RAFT_DEBUG"] = "1"
    if args.race:
        env["RAFT_RACE"] = "1"
    args.logs.mkdir(parents=True, exist_ok=True)

    print(f"stress: {args.runs} runs of `pytest -k {args.expr}`, {args.parallel} at a time; "
          f"failed runs kept in {args.logs}/", flush=True)
    begun = time.monotonic()
    pool = ProcessPool(args.parallel)
    for number in range(1, args.runs + 1):
        # Keep the records of failed tests (monitors.pytest_plugin).
        pool.add(command, dict(env, RAFT_RECORD_FAILED=str(
            args.logs / f"run-{number:04d}-records")), data=number)
    passed = 0
    failures: List[_Failure] = []
    durations: List[float] = []
    interactive = sys.stdout.isatty()

    def progress() -> None:
        done = passed + len(failures)
        line = (f"[{done:>{len(str(args.runs))}}/{args.runs}] {passed} passed, "
                f"{len(failures)} failed, {len(pool.running)} running, "
                f"{clock(time.monotonic() - begun)}")
        if interactive:
            print("\r" + line, end="", flush=True)
        elif done % max(1, args.runs // 20) == 0 or done == args.runs:
            print(line, flush=True)

    try:
        for run in pool.finished():
            durations.append(run.took)
            if run.returncode == 0:
                passed += 1
            else:
                failures.append(_keep_failure(args, run, time.monotonic() - begun))
                # (Printed once counted: a Ctrl-C right after the line keeps it in the summary.)
                _print_failure(failures[-1], interactive)
                if args.first_failure:
                    print(f"stress: --first-failure: stopped {pool.stop()} running "
                          "run(s)", flush=True)
            progress()
    except KeyboardInterrupt:
        pool.stop()
        print("\nstress: interrupted", flush=True)

    if interactive:
        print()
    wall = time.monotonic() - begun
    done = passed + len(failures)
    mean = sum(durations) / len(durations) if durations else 0.0
    print(f"stress: {passed}/{done} passed, {len(failures)} failed in {clock(wall)} "
          f"(a run took {mean:.1f} s on average)")
    for failure in failures:
        print(f"  run {failure.number} failed at {clock(failure.at)} "
              f"({failure.took:.1f} s): {failure.reason}\n    log: {failure.log}"
              + (f"\n    records: {failure.records}/" if failure.records else ""))
    return 1 if failures or done < args.runs else 0


def _keep_failure(args: argparse.Namespace, run: Job, at: float) -> _Failure:
    """Keep a failed run's output in its log."""
    text = run.output()
    log = args.logs / f"run-{run.data:04d}.log"
    log.write_text(text)
    records = args.logs / f"run-{run.data:04d}-records"
    return _Failure(run.data, at, run.took, _last_failure_line(text), log,
                    records if records.is_dir() else None)


def _print_failure(failure: _Failure, interactive: bool) -> None:
    if interactive:
        print()
    kept = f", records: {failure.records}/" if failure.records else ""
    print(f"FAIL run {failure.number} at {clock(failure.at)} after {failure.took:.1f} s: "
          f"{failure.reason} (log: {failure.log}{kept})", flush=True)


if __name__ == "__main__":
    sys.exit(main())
