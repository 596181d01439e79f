"""The shrinker on the bug catalogue: departures before and after, and the replay.

    python -m benchmarks.shrink_catalogue                  every bug --sim finds
    python -m benchmarks.shrink_catalogue vote_twice equal_timeouts --shrink-time 30
    python -m benchmarks.shrink_catalogue --skip race_ --jobs 2

For each bug in tests/bugs (the solution with one small edit), in a lab tree
as the grader builds one, two bugs at a time:
  1. find a failing seed: `pytest --sim --sim-seeds A-B -x -k PART`, blocks
     of 10 seeds in order until one fails (at most --find-cap s); a bug with
     no failing seed is listed as not found;
  2. shrink it: `pytest --sim --sim-seed N -k TEST --sim-shrink`, with the
     timeline plugin, so the shrunk run's page is drawn beside its replay file;
  3. replay the file: `pytest --sim --sim-replay FILE -k TEST --timeline DIR`.
The table: the bug, the test and seed, the departures of the seed's run and
of the shrunk one, the seconds spent shrinking, whether the shrunk run and
its replay fail as the seed's run did, and whether the replay's page is byte
for byte the shrunk run's (the page draws the whole record: every RPC, every
event, every departure, at its virtual time). The last line: the median of
after/before, and the largest shrinking time of the 2A and 2B bugs.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Optional

from tests.bugs import PLUGINS, RUNNER, Bug, catalogue

SEEDS_PER_BLOCK = 10
TIMELINE = ["-p", "labtools.timeline_plugin"]


def _pytest(sandbox: Path, args: List[str], timeout: float) -> str:
    command = ["nice", "-n", "10", sys.executable, "-c", RUNNER, "-q", "-p", "no:cacheprovider",
               *PLUGINS, *TIMELINE, "src/raft/test_raft.py", *args]
    env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    env.pop("RAFT_DEBUG", None)
    try:
        done = subprocess.run(command, cwd=sandbox, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as err:
        return (err.stdout or b"").decode(errors="replace") + "\n(timed out)"
    return done.stdout.decode(errors="replace")


def find_seed(bug: Bug, sandbox: Path, cap: float) -> Optional[Dict[str, str]]:
    """The first failing (test, seed) of the bug's part, in seed order, that
    fails again when run alone (a real-time watchdog report on a loaded
    machine is not the bug's)."""
    began = time.monotonic()
    first = 1
    while time.monotonic() - began < cap:
        out = _pytest(sandbox, ["--sim", "-x", "-k", bug.part,
                                f"--sim-seeds={first}-{first + SEEDS_PER_BLOCK - 1}"],
                      timeout=cap)
        found = re.search(r"::(Test\w+) seed (\d+): pytest", out)
        if found:
            test, seed = found.group(1), found.group(2)
            again = _pytest(sandbox, ["--sim", "--sim-seed", seed, "-k", test], timeout=cap)
            if f"{test} seed {seed}: pytest" in again:
                return {"test": test, "seed": seed}
        first += SEEDS_PER_BLOCK
    return None


def measure(bug: Bug, shrink_time: float, find_cap: float) -> Dict[str, str]:
    row = {"bug": bug.name, "part": bug.part}
    folder = Path(tempfile.mkdtemp(prefix=f"shrink-{bug.name}-"))
    sandbox = bug.lab_tree(folder)
    found = find_seed(bug, sandbox, find_cap)
    if found is None:
        return {**row, "test": "-", "seed": "-", "note": f"no failing seed in {find_cap:.0f} s"}
    row.update(found)
    test, seed = found["test"], found["seed"]
    out = _pytest(sandbox, ["--sim", "--sim-seed", seed, "-k", test, "--sim-shrink",
                            "--shrink-time", str(shrink_time), "--shrink-dir", "shrunk"],
                  timeout=shrink_time * 4 + 300)
    account = re.search(r"fails with ([\d,]+) departures? \(of ([\d,]+) in seed", out)
    search = re.search(r"search: +(\d+) tries in ([\d.]+) s", out)
    if account is None or search is None:
        tail = " / ".join(out.strip().splitlines()[-3:])
        return {**row, "note": f"no account: {tail[:200]}"}
    row["after"] = account.group(1).replace(",", "")
    row["before"] = account.group(2).replace(",", "")
    row["tries"], row["seconds"] = search.group(1), search.group(2)
    row["same"] = "yes"     # the shrinker keeps only runs that fail as the seed's did
    replay_file = sandbox / "shrunk" / f"{test}-seed{seed}.json"
    shrunk_page = sandbox / "shrunk" / f"{test}-seed{seed}.html"
    out = _pytest(sandbox, ["--sim", "--sim-replay", str(replay_file), "-k", test,
                            "--timeline", "replayed"], timeout=600)
    row["same"] = "yes" if "fails as recorded" in out else "NO"
    replayed_page = sandbox / "replayed" / f"{test}.html"
    identical = (shrunk_page.is_file() and replayed_page.is_file()
                 and shrunk_page.read_bytes() == replayed_page.read_bytes())
    row["replay"] = "yes" if identical else "NO"
    row["files"] = str(sandbox / "shrunk")
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bugs", nargs="*", help="bug names (default: all)")
    parser.add_argument("--shrink-time", type=float, default=60.0,
                        help="--shrink-time of each shrink (default 60 s)")
    parser.add_argument("--find-cap", type=float, default=120.0,
                        help="seconds to look for a failing seed (default 120)")
    parser.add_argument("--skip", default="race_",
                        help="leave out the bugs whose names start with this (default race_: "
                             "data races, which --sim alone does not look for)")
    parser.add_argument("--jobs", type=int, default=2, help="bugs at a time (default 2)")
    args = parser.parse_args()
    bugs = [bug for bug in catalogue(args.bugs)
            if not (args.skip and bug.name.startswith(args.skip))]
    if not bugs:
        parser.error("no bug left to measure")
    print(f"shrinking the first failing seed of each bug, --shrink-time {args.shrink_time:.0f}, "
          f"{args.jobs} at a time", flush=True)
    print("| bug | test | seed | departures before | after | seconds | tries "
          "| same failure | replay identical |")
    print("|---|---|---|---|---|---|---|---|---|", flush=True)
    rows = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for row in pool.map(lambda bug: measure(bug, args.shrink_time, args.find_cap), bugs):
            rows.append(row)
            if "after" in row:
                print(f"| {row['bug']} | {row['test']} | {row['seed']} | {row['before']} | "
                      f"{row['after']} | {row['seconds']} | {row['tries']} | {row['same']} | "
                      f"{row['replay']} |", flush=True)
            else:
                print(f"| {row['bug']} | {row.get('test', '-')} | {row.get('seed', '-')} | "
                      f"- | - | - | - | - | - | {row.get('note', '')}", flush=True)
            if "files" in row:
                print(f"    files: {row['files']}", file=sys.stderr, flush=True)
    shrunk = [row for row in rows if "after" in row]
    if shrunk:
        ratios = [int(r["after"]) / max(1, int(r["before"])) for r in shrunk]
        early = [float(r["seconds"]) for r in shrunk if r["part"] in ("2A", "2B")]
        print(f"median after/before: {statistics.median(ratios):.3f} over {len(shrunk)} bugs; "
              f"same failure {sum(r['same'] == 'yes' for r in shrunk)}/{len(shrunk)}, replay "
              f"identical {sum(r['replay'] == 'yes' for r in shrunk)}/{len(shrunk)}"
              + (f"; longest 2A/2B shrink {max(early):.1f} s" if early else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
