"""Run tests many times, several at once, to catch the failures that hide.

    raft-stress                    # the 2A tests, 100 runs, 4 at a time
    raft-stress -k 2A -n 500 -p 4
    raft-stress -k "TestReElection2A" -n 50 -- -x --timeout 60

    raft-stress --sim -n 1000 -k 2A  # seeds 1..1000 under the simulation
                                     # (labtools.simstress; --seeds A-B)

Each run is one `pytest -k EXPR` in a fresh process, started in the current
folder (the repository's root, whose setup.cfg names the tests). The full output of a
failed run, with its DPrintf lines (RAFT_DEBUG is on unless --no-debug), is
kept in --logs DIR as run-NNNN.log, and the record of each failed test (the
RPCs, the harness's actions, the DPrintf lines and any broken rule; read it
with raft-logview) in run-NNNN-records/. Exits 1 if any run failed.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, List, Optional, Sequence


@dataclass
class _Run:
    number: int
    slot: int
    process: subprocess.Popen
    output: IO[bytes]
    started: float


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
    sim = parser.add_argument_group("simulation (labtools.simstress)")
    sim.add_argument("--sim", action="store_true",
                     help="run seeds under the simulation, many to a process (-n N: 1..N)")
    sim.add_argument("--seeds", default=None, help="with --sim: the seeds, A-B or a list")
    sim.add_argument("--sim-strategy", default="random", choices=("random", "pct"),
                     help="with --sim: the scheduling strategy (default random)")
    sim.add_argument("--batch", type=int, default=100,
                     help="with --sim: seeds to a process (default 100)")
    sim.add_argument("--first-failure", action="store_true",
                     help="with --sim: stop at the first failing seed")
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
    if not Path("setup.cfg").is_file():
        parser.error("no setup.cfg here: run from the repository's root, where pytest "
                     "finds the tests")
    args.pytest_args = passthrough
    return args


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes // 60:d}:{minutes % 60:02d}:{secs:02d}"


def _last_failure_line(text: str) -> str:
    """The most telling line of a failed run's output."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("FAILED ") or line.startswith("ERROR "):
            return line
    return lines[-1] if lines else "(no output)"


def _stop_on_sigterm(signum: int, frame: object) -> None:
    # Killed from another terminal: stop like Ctrl-C, with a summary.
    raise KeyboardInterrupt


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parse(argv)
    if args.sim:
        from labtools import simstress
        return simstress.run(args)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    command = [
        sys.executable, "-m", "pytest", "-k", args.expr, "-q", "-p", "no:cacheprovider",
        *args.pytest_args,
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
    running: List[_Run] = []
    free_slots = list(range(args.parallel))
    next_number = 1
    passed = 0
    failures: List[_Failure] = []
    durations: List[float] = []
    interactive = sys.stdout.isatty()

    def progress() -> None:
        done = passed + len(failures)
        line = (f"[{done:>{len(str(args.runs))}}/{args.runs}] {passed} passed, "
                f"{len(failures)} failed, {len(running)} running, "
                f"{_clock(time.monotonic() - begun)}")
        if interactive:
            print("\r" + line, end="", flush=True)
        elif done % max(1, args.runs // 20) == 0 or done == args.runs:
            print(line, flush=True)

    try:
        while next_number <= args.runs or running:
            while next_number <= args.runs and free_slots:
                slot = free_slots.pop(0)
                output = tempfile.TemporaryFile()
                # Spread the runs over the CPUs (see labrpc.affinity); keep
                # the records of failed tests (monitors.pytest_plugin).
                run_env = dict(env, LABRPC_CPU=str(slot), RAFT_RECORD_FAILED=str(
                    args.logs / f"run-{next_number:04d}-records"))
                process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,
                                           env=run_env)
                running.append(_Run(next_number, slot, process, output, time.monotonic()))
                next_number += 1
            time.sleep(0.05)
            for run in [r for r in running if r.process.poll() is not None]:
                running.remove(run)
                free_slots.append(run.slot)
                took = time.monotonic() - run.started
                durations.append(took)
                if run.process.returncode == 0:
                    passed += 1
                else:
                    run.output.seek(0)
                    text = run.output.read().decode(errors="replace")
                    log = args.logs / f"run-{run.number:04d}.log"
                    log.write_text(text)
                    records = args.logs / f"run-{run.number:04d}-records"
                    failure = _Failure(run.number, time.monotonic() - begun, took,
                                       _last_failure_line(text), log,
                                       records if records.is_dir() else None)
                    failures.append(failure)
                    if interactive:
                        print()
                    kept = f", records: {failure.records}/" if failure.records else ""
                    print(f"FAIL run {run.number} at {_clock(failure.at)} after "
                          f"{took:.1f} s: {failure.reason} (log: {log}{kept})", flush=True)
                run.output.close()
                progress()
    except KeyboardInterrupt:
        for run in running:
            run.process.kill()
        print("\nstress: interrupted", flush=True)

    if interactive:
        print()
    wall = time.monotonic() - begun
    done = passed + len(failures)
    mean = sum(durations) / len(durations) if durations else 0.0
    print(f"stress: {passed}/{done} passed, {len(failures)} failed in {_clock(wall)} "
          f"(a run took {mean:.1f} s on average)")
    for failure in failures:
        print(f"  run {failure.number} failed at {_clock(failure.at)} "
              f"({failure.took:.1f} s): {failure.reason}\n    log: {failure.log}"
              + (f"\n    records: {failure.records}/" if failure.records else ""))
    return 1 if failures or done < args.runs else 0


if __name__ == "__main__":
    sys.exit(main())
