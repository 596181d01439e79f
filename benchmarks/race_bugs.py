"""How often `pytest -k 2A --race` reports each planted race bug.

    python benchmarks/race_bugs.py [-n 10] [--whole] [bug ...]

The race bugs are the catalogue's entries named race_* (benchmarks/bugs/).
Each run writes the solution with the bug into a sandbox (as the grader
does), runs `pytest -x -k 2A --race` there, and counts it as found when the
run fails with the report the bug should give (EXPECTED below). -x stops
the run at its first failure, which is all a report needs (--whole runs
all three tests, as a student's `pytest -k 2A --race` does). Prints, per bug,
found/runs and the seconds a run took, then the first report seen.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bugs import PLUGINS, RUNNER, Bug, catalogue  # noqa: E402

# What each bug's report must say (every fragment, in the failing output).
EXPECTED: Dict[str, Tuple[str, ...]] = {
    "race_unlocked_read": (
        ".currentTerm: written by one thread", "read by thread raft-S",
        "WITHOUT the lock", "in _ask_for_vote"),
    "race_unlocked_write": (
        "._election_deadline: written by one thread", "write by thread labrpc-handler",
        "WITHOUT the lock", "in AppendEntries"),
    "race_log_append_unlocked": (
        ".log: written by one thread", "write by thread labrpc-handler",
        "WITHOUT the lock", "in AppendEntries"),
    "race_sleep_holding_lock": (
        "time.sleep called while holding", "self.mu", "in ticker"),
    "race_call_holding_lock": (
        "Call('Raft.AppendEntries') called while holding", "self.mu",
        "in _send_append_entries"),
}
RUN_TIMEOUT_S = 400  # --whole: three tests, each may end by its 120 s timeout


def race_bugs(names: List[str] = ()) -> List[Bug]:
    return [bug for bug in catalogue(names) if bug.name in EXPECTED]


def run_once(bug: Bug, whole: bool = False,
             extra: Sequence[str] = ()) -> Tuple[bool, str, float]:
    """(found, pytest's output, seconds) for one `pytest [-x] -k 2A --race` run
    (with extra arguments for pytest: ["--sim"] runs it under the simulation)."""
    work = Path(tempfile.mkdtemp(prefix=f"race-{bug.name}-"))
    try:
        sandbox = bug.lab_tree(work / "tree")
        command = [sys.executable, "-c", RUNNER, "-q", "-p", "no:cacheprovider",
                   *PLUGINS, "--race", *extra, "-k", "2A", "src/raft/test_raft.py"]
        if not whole:
            command.insert(3, "-x")
        t0 = time.monotonic()
        result = subprocess.run(
            command, cwd=sandbox, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
            env=dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"),
        )
        seconds = time.monotonic() - t0
        output = result.stdout + result.stderr
        found = result.returncode != 0 and all(part in output for part in EXPECTED[bug.name])
        return found, output, seconds
    finally:
        shutil.rmtree(work, ignore_errors=True)


def first_report(output: str) -> str:
    """The failure message pytest printed (its 'E ' lines), without the prefix."""
    lines = [line[4:] if line.startswith("E   ") else line[2:]
             for line in output.splitlines() if line.startswith("E ")]
    starts = [i for i, line in enumerate(lines)
              if "race on" in line or "called while holding" in line]
    if not starts:
        return ""
    end = starts[1] if len(starts) > 1 else starts[0] + 14
    return "\n".join(lines[starts[0]:end])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10, help="runs a bug (default 10)")
    parser.add_argument("--whole", action="store_true",
                        help="run all of -k 2A, not only up to the first failure")
    parser.add_argument("bugs", nargs="*", help="race bugs to run (default: all)")
    args = parser.parse_args()
    for bug in race_bugs(args.bugs):
        found, seconds, example = 0, [], ""
        for _ in range(args.n):
            ok, output, took = run_once(bug, args.whole)
            found += ok
            seconds.append(took)
            if ok and not example:
                example = first_report(output)
            if not ok:
                print(f"--- {bug.name}: a run without the expected report:\n{output[-3000:]}")
        print(f"{bug.name:28} found {found}/{args.n}  "
              f"{min(seconds):.1f}-{max(seconds):.1f} s a run  ({bug.description})")
        print("    " + example.replace("\n", "\n    "))


if __name__ == "__main__":
    main()
