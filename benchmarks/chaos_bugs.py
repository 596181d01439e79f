"""Time for raft-chaos to find each catalogued bug, beside the Go tests under --sim.

    python -m benchmarks.chaos_bugs                        every bug, 60 s each
    python -m benchmarks.chaos_bugs stale_vote_counted vote_not_persisted --cap 120
    python -m benchmarks.chaos_bugs --no-go                raft-chaos's columns only
    python -m benchmarks.chaos_bugs --skip race_           leave the race bugs out
    python -m benchmarks.chaos_bugs --repeat 5 --no-go     raft-chaos 5 times a bug
    python -m benchmarks.chaos_bugs --shrink               and each failing seed shrunk

For each bug in tests/bugs (the solution with one small edit), in a lab
tree as the grader builds one:
  raft-chaos   `raft-chaos --parts PART -p 2 --time CAP` (with --race for
               the race checker's bugs), --repeat times (from random seeds
               each time): the median wall time to its FAIL line (process
               start-up included; a miss counts as the cap), how many runs
               found it, the rule it names
  Go --sim     the Go tests of the part under `pytest --sim` (with --race
               for the race checker's bugs), two processes taking blocks of
               seeds until one fails (benchmarks.find_bugs's machinery): the
               wall time, and the rule or check that failed
  --shrink     the first failing seed's replay command with --shrink
               (--shrink-time CAP): the shrunk run's departures against
               the seed's, and the seconds the shrinking took
Prints a markdown table, then the medians (a miss counts as the cap) and
how many bugs each found.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional, Tuple

from benchmarks.find_bugs import measure
from tests.bugs import CHAOS_RUNNER, Bug, catalogue
# raft-chaos stops itself at --time; this much more, and it is killed.
KILL_AFTER_S = 60.0


def _without_debug() -> dict:
    """This environment without RAFT_DEBUG (raft-chaos's output is what is read)."""
    return {name: value for name, value in os.environ.items() if name != "RAFT_DEBUG"}


def run_chaos(bug: Bug, sandbox: Path, cap: float,
              processes: int = 2) -> Tuple[Optional[float], str, str]:
    """(seconds to the FAIL line or None, the rule named, the replay line)."""
    command = [sys.executable, "-c", CHAOS_RUNNER, "--parts", bug.part, "-p", str(processes),
               "--time", f"{cap:g}"]
    if bug.report:
        command.append("--race")
    env = _without_debug()
    began = time.monotonic()
    process = subprocess.Popen(command, cwd=sandbox, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, env=env)
    found: Optional[float] = None
    rule = replay = ""
    try:
        for line in process.stdout:
            if line.startswith("raft-chaos: FAIL") and found is None:
                found = time.monotonic() - began
            elif line.startswith("broken rule: "):
                rule = line[len("broken rule: "):].strip()
            elif line.startswith("replay: "):
                replay = line[len("replay: "):].strip()
            if time.monotonic() - began > cap + KILL_AFTER_S:
                break
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    return found, rule, replay


def go_rule(detail: str) -> str:
    """The failing Go test, and the rule or check it names."""
    found = re.search(r"(Test\w+): (?:Raft rule broken: ([^:]+):)?(.*)", detail)
    if not found:
        return detail[-70:]
    test, rule, message = found.groups()
    return f"{test}: {rule or message.strip()[:60]}"


_SHRUNK = re.compile(r"it fails with ([\d,]+) departures? \(of ([\d,]+) in the seed's run\)")
_SEARCH = re.compile(r"^search: \d+ tries in ([\d.]+) s", re.M)


def run_shrink(replay: str, sandbox: Path, cap: float) -> Tuple[Optional[Tuple[int, int]], float]:
    """((departures kept, the seed's), seconds) of `REPLAY --shrink`; None if it did not shrink."""
    command = [sys.executable, "-c", CHAOS_RUNNER, *replay.split()[1:], "-p", "1", "--shrink",
               "--shrink-time", f"{cap:g}", "--shrink-dir", str(sandbox / "shrunk")]
    env = _without_debug()
    done = subprocess.run(command, cwd=sandbox, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True, env=env,
                          timeout=cap + 2 * KILL_AFTER_S)
    shrunk, search = _SHRUNK.search(done.stdout), _SEARCH.search(done.stdout)
    if shrunk is None or search is None:
        return None, 0.0
    kept, original = (int(number.replace(",", "")) for number in shrunk.groups())
    return (kept, original), float(search.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bugs", nargs="*", help="bug names (default: all)")
    parser.add_argument("--cap", type=float, default=60.0,
                        help="seconds per bug and column (default 60)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="raft-chaos runs a bug (default 1); the table gives their median")
    parser.add_argument("--no-go", action="store_true",
                        help="leave out the Go tests' column")
    parser.add_argument("--skip", default="",
                        help="leave out the bugs whose names start with this (e.g. race_)")
    parser.add_argument("--shrink", action="store_true",
                        help="shrink each bug's failing seed (raft-chaos --shrink)")
    args = parser.parse_args()
    bugs = [bug for bug in catalogue(args.bugs)
            if not (args.skip and bug.name.startswith(args.skip))]
    if not bugs:
        parser.error("no bug left to measure")
    print(f"time to find (s), 2 processes a column, cap {args.cap:g} s")
    header = "| bug | part | raft-chaos | rule raft-chaos names |"
    rule_line = "|---|---|---|---|"
    if not args.no_go:
        header += " Go tests --sim | what the Go tests report |"
        rule_line += "---|---|"
    if args.shrink:
        header += " shrunk: departures (of the seed's) | shrinking (s) |"
        rule_line += "---|---|"
    print(header)
    print(rule_line, flush=True)
    chaos_times: List[float] = []
    go_times: List[float] = []
    ratios: List[float] = []
    shrink_times: List[float] = []
    for bug in bugs:
        folder = Path(tempfile.mkdtemp(prefix=f"chaos-{bug.name}-"))
        try:
            sandbox = bug.lab_tree(folder)
            runs = [run_chaos(bug, sandbox, args.cap) for _ in range(args.repeat)]
            times = [found if found is not None else args.cap for found, _, _ in runs]
            hits = [run for run in runs if run[0] is not None]
            chaos_times.append(statistics.median(times))
            rules = sorted({rule for _, rule, _ in hits})
            cell = _cell(statistics.median(times) if hits else None, args.cap)
            if args.repeat > 1:
                cell += f" ({len(hits)}/{args.repeat})"
            cells = [cell, "; ".join(rules) or "-"]
            replay = hits[0][2] if hits else ""
            if not args.no_go:
                go_found, detail = measure(bug.name, bug.part, sandbox, "random", args.cap,
                                           extra=("--race",) if bug.report else ())
                go_times.append(go_found if go_found is not None else args.cap)
                cells += [_cell(go_found, args.cap), go_rule(detail) if go_found else "-"]
            if args.shrink:
                shrunk, took = run_shrink(replay, sandbox, args.cap) if replay else (None, 0.0)
                if shrunk is not None:
                    ratios.append(shrunk[0] / max(shrunk[1], 1))
                    shrink_times.append(took)
                    cells += [f"{shrunk[0]:,} ({shrunk[1]:,})", f"{took:.1f}"]
                else:
                    cells += ["-", "-"]
            print(f"| {bug.name} | {bug.part} | " + " | ".join(cells) + " |", flush=True)
            if replay:
                print(f"    raft-chaos replay: {replay}", file=sys.stderr, flush=True)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"\nraft-chaos: found {sum(t < args.cap for t in chaos_times)} of {len(bugs)}, "
          f"median {statistics.median(chaos_times):.1f} s (a miss counts as {args.cap:g} s)")
    if go_times:
        print(f"Go tests --sim: found {sum(t < args.cap for t in go_times)} of {len(bugs)}, "
              f"median {statistics.median(go_times):.1f} s")
    if ratios:
        print(f"shrunk: {len(ratios)} seeds; departures kept, median "
              f"{statistics.median(ratios):.2%} of the seed's (largest {max(ratios):.2%}); "
              f"shrinking took a median "
              f"{statistics.median(shrink_times):.1f} s (longest {max(shrink_times):.1f} s)")
    return 0


def _cell(found: Optional[float], cap: float) -> str:
    return f"{found:.1f}" if found is not None else f"> {cap:g}"


if __name__ == "__main__":
    sys.exit(main())
