"""raft-chaos: drive your Raft through random faults, seed after seed.

    raft-chaos --parts 2A                      a minute of 2A's seeds
    raft-chaos --parts 2A,2B -p 2 --time 300   five minutes, two processes
    raft-chaos --parts 2C --seeds 1-500        those seeds, however long it takes
    raft-chaos --parts 2B --peers 5 --seeds 1234-1234     replay one seed
    raft-chaos --parts 2D --record-failed records/   keep the failing seed's record
    raft-chaos --parts 2B --shrink             cut the failing seed to the choices
                                               that matter (labtools.chaos.shrinking)
    raft-chaos --replay shrunk/chaos-2B-seed-7.json   rerun a shrunk run

Each seed runs a cluster of your raft.py under the simulation (labsim):
3, 5 or 7 peers, clients offering commands (from 2B on), and a nemesis of
partitions, one-way cuts, drops, long delays and reordering, crashes and
restarts (2C on), and snapshots (2D), judged by the monitors, the
harness's checks of what peers apply, and liveness in quiet spells. It
stops at the first failing seed, prints the broken rule, what the nemesis
did, and the command that replays the seed exactly; exit status 1. It
exits 0 when the time or the seeds run out with no failure, 2 on bad
arguments. With --shrink, the failing seed is then cut to the fewest faults
and choices that still break the same rule (exit status 1 still).
docs/chaos.md has the details.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Iterator, List, Optional, Sequence

import racecheck
from labsim.seeds import parse_seeds
from labtools.chaos import shrinking
from labtools.chaos.explorer import Explorer, command_of, count_by_part, seed_runs
from labtools.chaos.parts import chosen_parts
from labtools.chaos.scenario import SeedResult
from labtools.parts import PartsError

DEFAULT_TIME_S = 60.0
PROGRESS_EVERY_S = 10.0
MESSAGE_LINES = 40
ACTIONS_SHOWN = 15
PEERS_RANGE = range(1, 10)
# A random first seed is drawn below this, so that seeds stay short to type.
FIRST_SEED_BELOW = 1_000_000_000


def _default_processes() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus))


def _parse(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="raft-chaos",
        description="Run seeded clusters of your Raft through random faults (partitions, "
        "one-way cuts, drops, reordering, crashes, snapshots) under the simulation, and stop "
        "at the first seed that breaks a rule.")
    parser.add_argument("--parts", action="append", metavar="PARTS",
                        help="the parts whose seeds to run: 2A (elections), 2B (+ commands), "
                        "2C (+ crashes), 2D (+ snapshots); a comma list, repeatable")
    parser.add_argument("-p", "--processes", type=int, default=_default_processes(),
                        help="worker processes (default: the CPUs, at most 4)")
    parser.add_argument("--time", type=float, default=None,
                        help=f"seconds to run (default {DEFAULT_TIME_S:g}, or until --seeds "
                        "run out when they are given)")
    parser.add_argument("--seeds", default=None,
                        help="the seeds to run: A-B, N (the seeds 1..N) or a comma list "
                        "(default: from a random seed on)")
    parser.add_argument("--peers", type=int, default=None,
                        help="the cluster's size (default: each seed draws 3, 5 or 7)")
    parser.add_argument("--record-failed", type=Path, default=None, metavar="DIR",
                        help="save the failing seed's record in DIR (for raft-timeline and "
                        "raft-logview)")
    parser.add_argument("--race", action="store_true",
                        help="build every peer through the race checker (as pytest --race)")
    parser.add_argument("--results", type=Path, default=None, metavar="FILE",
                        help="append one JSON line per seed to FILE (for tools)")
    parser.add_argument("--shrink", action="store_true",
                        help="cut the failing seed to the fewest faults and choices that "
                        "still break the same rule; write its replay file and record")
    parser.add_argument("--shrink-time", type=float, default=shrinking.DEFAULT_TIME_S,
                        metavar="S", help="seconds the shrinking may take (default "
                        f"{shrinking.DEFAULT_TIME_S:g})")
    parser.add_argument("--shrink-dir", type=Path, default=Path(shrinking.DEFAULT_DIR),
                        metavar="DIR", help="where --shrink writes the replay file and the "
                        f"record (default {shrinking.DEFAULT_DIR}/)")
    parser.add_argument("--replay", type=Path, default=None, metavar="FILE",
                        help="rerun the shrunk run of a replay file that --shrink wrote")
    args = parser.parse_args(argv)
    if not args.shrink_time > 0:
        parser.error(f"--shrink-time must be a positive number of seconds, got "
                     f"{args.shrink_time:g}")
    if args.replay is not None:
        mixed = [name for name, given in (("--parts", args.parts), ("--seeds", args.seeds),
                                          ("--time", args.time), ("--shrink", args.shrink),
                                          ("--peers", args.peers)) if given]
        if mixed:
            parser.error(f"--replay reruns its file's run alone: leave out {', '.join(mixed)}")
        try:
            args.replay_of = shrinking.read(args.replay)
        except shrinking.ReplayFileError as err:
            parser.error(str(err))
        return args
    if not args.parts:
        parser.error("choose the parts to run: --parts 2A (or 2B, 2C, 2D, or a comma list)")
    try:
        args.parts = chosen_parts(args.parts)
    except PartsError as err:
        parser.error(f"--parts: {err}")
    if args.processes < 1:
        parser.error(f"-p/--processes must be at least 1, got {args.processes}")
    if args.time is not None and not args.time > 0:
        parser.error(f"--time must be a positive number of seconds, got {args.time:g}")
    if args.seeds is not None:
        try:
            args.seeds = parse_seeds(args.seeds)
        except ValueError as err:
            parser.error(f"--seeds: {err}")
        negative = [seed for seed in args.seeds if seed < 0]
        if negative:
            parser.error(f"--seeds: seeds are numbers from 0 up, got {negative[0]}")
    if args.peers is not None and args.peers not in PEERS_RANGE:
        parser.error(f"--peers must be from {PEERS_RANGE[0]} to {PEERS_RANGE[-1]}, "
                     f"got {args.peers}")
    if args.time is None and args.seeds is None:
        args.time = DEFAULT_TIME_S
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parse(argv)
    if args.replay is not None:
        return _replay(args)
    if args.seeds is not None:
        seeds: Iterator[int] = iter(args.seeds)
        what = f"seeds {args.seeds[0]}-{args.seeds[-1]}" if len(args.seeds) > 1 \
            else f"seed {args.seeds[0]}"
    else:
        first = random.SystemRandom().randrange(FIRST_SEED_BELOW)
        seeds = itertools.count(first)
        what = f"seeds from {first} on"
    limit = f" for {args.time:g} s" if args.time is not None else ""
    if args.seeds is not None:
        args.processes = min(args.processes, len(args.seeds) * len(args.parts))
    print(f"raft-chaos: parts {', '.join(args.parts)}, {what}, {args.processes} "
          f"process{'es' if args.processes > 1 else ''}{limit}", flush=True)
    if args.race:
        os.environ[racecheck.ENV_VAR] = "1"  # the workers inherit it
    explorer = Explorer(args.processes, args.peers, args.record_failed,
                        lags=args.results is not None)
    began = time.monotonic()
    deadline = began + args.time if args.time is not None else None
    passed: List[SeedResult] = []
    results_file: Optional[IO[str]] = open(args.results, "a") if args.results else None
    next_progress = began + PROGRESS_EVERY_S
    try:
        for result in explorer.run(seed_runs(args.parts, seeds), deadline):
            if results_file is not None:
                results_file.write(json.dumps(result.to_json()) + "\n")
                results_file.flush()
            if not result.ok:
                explorer.stop()
                _report_failure(result, len(passed), time.monotonic() - began)
                if shrinking.can_shrink(result.rule):
                    if args.shrink:
                        _shrink(result, args)
                    else:
                        print(f"shrink it: {result.replay} --shrink")
                elif args.shrink:
                    print("raft-chaos: not shrunk: the seed does not decide this failure "
                          "(real time or the process's death does)")
                return 1
            passed.append(result)
            if time.monotonic() >= next_progress:
                next_progress += PROGRESS_EVERY_S
                print(f"  [{time.monotonic() - began:4.0f} s] {_seeds(len(passed))} passed",
                      flush=True)
    except KeyboardInterrupt:
        explorer.stop()
        print(f"raft-chaos: interrupted after {_seeds(len(passed))} passed", flush=True)
        return 130
    finally:
        if results_file is not None:
            results_file.close()
    took = time.monotonic() - began
    counts = ", ".join(f"{part}: {count}" for part, count in count_by_part(passed).items())
    print(f"raft-chaos: {_seeds(len(passed))} passed in {took:.1f} s "
          f"({len(passed) / max(took, 1e-9):.1f} a second; {counts or 'none'}); "
          f"no rule broken", flush=True)
    return 0


def _shrink(result: SeedResult, args: argparse.Namespace) -> None:
    """Shrink the failing seed in a process of its own (its account is printed)."""
    _run_shrinking(["shrink", result.part, str(result.seed), "--peers", str(result.peers),
                    "--time", f"{args.shrink_time:g}", "--dir", str(args.shrink_dir)],
                   "shrinking", "; the seed's replay command above stands")


def _replay(args: argparse.Namespace) -> int:
    replay = args.replay_of
    if replay.race:
        os.environ[racecheck.ENV_VAR] = "1"
    options = ["--record-failed", str(args.record_failed)] if args.record_failed else []
    return _run_shrinking(["replay", str(args.replay), *options], "replay", "")


def _run_shrinking(argv: List[str], what: str, after: str) -> int:
    """labtools.chaos.shrinking's main(argv) in a process of its own (it prints
    its account); its exit status, or 130 for Ctrl-C, or 1 if it died, as said."""
    sys.stdout.flush()
    try:
        code = subprocess.run(command_of("shrinking", argv)).returncode
    except KeyboardInterrupt:
        print(f"raft-chaos: {what} interrupted{after}", flush=True)
        return 130
    if code not in (0, 1, 2, 130):
        print(f"raft-chaos: the {what} process ended with status {code} (its report is on "
              f"stderr above){after}", flush=True)
        return 1
    return code


def _seeds(count: int) -> str:
    return f"{count} seed{'' if count == 1 else 's'}"


def _report_failure(result: SeedResult, passed: int, took: float) -> None:
    print(f"raft-chaos: FAIL seed {result.seed}, part {result.part}, {result.peers} peers, "
          f"at {result.virtual_s:.3f} s of simulated time (after {_seeds(passed)} passed, "
          f"{took:.1f} s)")
    print(f"broken rule: {result.rule}")
    lines = result.message.rstrip().splitlines()
    for line in lines[:MESSAGE_LINES]:
        print(f"  {line}")
    if len(lines) > MESSAGE_LINES:
        print(f"  ... ({len(lines) - MESSAGE_LINES} more lines)")
    if result.actions:
        shown = result.actions[-ACTIONS_SHOWN:]
        print(f"what the nemesis did (the last {len(shown)} of {len(result.actions)} actions, "
              "simulated time):")
        for at, text in shown:
            print(f"  {at:8.3f} s  {text}")
    print(f"replay: {result.replay}")
    if result.record_path:
        print(f"record: {result.record_path} (raft-timeline {result.record_path} -o page.html; "
              f"raft-logview {result.record_path} --rpcs)")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
