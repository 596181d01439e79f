"""Fidelity: the Passed line's figures under --sim against real-time runs,
and whether every simulated seed passes.

    python benchmarks/sim_fidelity.py                 -k 2A: 5 real runs, 200 seeds
    python benchmarks/sim_fidelity.py -k "2A or 2B or 2C or 2D" --real 5 --seeds 100 \
        --real-file real.json -j 2

For each test, the RPC count of its Passed line: min, median and max over
the real-time runs and over the simulated seeds (strategy random, then
pct), how many simulated counts fall inside the range the real runs show,
widened by the given slack (default 10%: a handful of real runs cannot
show the whole range), and how many seeds failed (each with its replay
command). --real-file keeps the real runs' counts (they take the real
suite's minutes) and reuses them when the file exists.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parents[1]
PASSED = re.compile(r"Passed --\s+([\d.]+)\s+\d+\s+(\d+)")


def real_runs(expr: str, runs: int) -> Dict[str, List[int]]:
    counts: Dict[str, List[int]] = defaultdict(list)
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p",
                               "no:cacheprovider", "-k", expr, "src/raft", "-rA"],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        text = done.stdout.decode(errors="replace")
        # -rA prints each test's captured stdout under "PASSED name" sections.
        for name, body in re.findall(r"_+ (Test\w+) _+\n(.*?)(?=\n_+ Test|\n=+ )", text,
                                     flags=re.DOTALL):
            found = PASSED.search(body)
            if found:
                counts[name].append(int(found.group(2)))
    return counts


def sim_runs(expr: str, seeds: int, strategy: str, jobs: int
             ) -> "tuple[Dict[str, List[int]], List[str], int]":
    """(RPC counts per test, the failing runs' replay commands, runs) over seeds 1..seeds."""
    counts: Dict[str, List[int]] = defaultdict(list)
    failures: List[str] = []
    runs = 0
    jobs = max(1, min(jobs, seeds))
    bounds = [(seeds * i // jobs + 1, seeds * (i + 1) // jobs) for i in range(jobs)]
    with tempfile.TemporaryDirectory() as folder:
        procs = []
        for number, (first, last) in enumerate(bounds):
            results = Path(folder) / f"r{number}.jsonl"
            procs.append((results, subprocess.Popen(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", expr,
                 "src/raft", "--sim", f"--sim-strategy={strategy}",
                 f"--sim-seeds={first}-{last}", f"--sim-results={results}"],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
        for results, proc in procs:
            proc.wait()
            lines = results.read_text().splitlines() if results.exists() else []
            for line in lines:
                result = json.loads(line)
                runs += 1
                if result["outcome"] == "failed":
                    failures.append(result["replay"])
                found = PASSED.search(result.get("passed_line", ""))
                if found:
                    counts[result["name"]].append(int(found.group(2)))
    return counts, failures, runs


def _spread(values: List[int]) -> str:
    if not values:
        return "-"
    return f"{min(values)}/{int(statistics.median(values))}/{max(values)} (n={len(values)})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="expr", default="2A")
    parser.add_argument("--real", type=int, default=5, help="real-time runs (default 5)")
    parser.add_argument("--real-file", type=Path, default=None,
                        help="keep the real runs' counts here; reuse them if it exists")
    parser.add_argument("--seeds", type=int, default=200,
                        help="seeds 1..N (default 200; 0: only the real runs)")
    parser.add_argument("-j", dest="jobs", type=int, default=1,
                        help="simulated processes at a time (default 1)")
    parser.add_argument("--slack", type=float, default=0.10)
    args = parser.parse_args()
    sims = {}
    for strategy in ("random", "pct") if args.seeds > 0 else ():
        counts, failures, runs = sim_runs(args.expr, args.seeds, strategy, args.jobs)
        sims[strategy] = counts
        print(f"--sim-strategy {strategy}: {runs - len(failures)}/{runs} runs passed "
              f"(seeds 1-{args.seeds})", flush=True)
        for replay in failures:
            print(f"  failed: {replay}")
    # (after the seeds: a second copy started beside this one may write the file)
    if args.real_file is not None and args.real_file.exists():
        real = json.loads(args.real_file.read_text())
        print(f"real-time counts from {args.real_file}")
    else:
        real = real_runs(args.expr, args.real)
        if args.real_file is not None:
            args.real_file.write_text(json.dumps(real, indent=1, sort_keys=True))
    print("| test | real time | --sim random | --sim pct | inside the real range (+-"
          f"{args.slack:.0%}) |\n|---|---|---|---|---|")
    for name in sorted(set(real) | set(sims.get("random", {}))):
        low = min(real.get(name, [0])) * (1 - args.slack)
        high = max(real.get(name, [0])) * (1 + args.slack)
        inside = []
        for strategy in ("random", "pct"):
            values = sims.get(strategy, {}).get(name, [])
            share = sum(low <= v <= high for v in values)
            inside.append(f"{strategy} {share}/{len(values)}")
        columns = [_spread(real.get(name, []))] + [
            _spread(sims.get(strategy, {}).get(name, [])) for strategy in ("random", "pct")]
        print(f"| {name} | {' | '.join(columns)} | {', '.join(inside)} |", flush=True)
    print("(RPC counts of the Passed line: min/median/max)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
