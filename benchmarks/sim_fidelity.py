"""Fidelity: the Passed line's figures under --sim against real-time runs.

    python benchmarks/sim_fidelity.py                 -k 2A: 5 real runs, 200 seeds
    python benchmarks/sim_fidelity.py -k 2B --real 3 --seeds 100

For each test, the RPC count (and seconds) of its Passed line: min, median
and max over the real-time runs and over the simulated seeds (strategy
random, then pct), and how many simulated counts fall inside the range
the real runs show, widened by the given slack (default 10%: a handful of
real runs cannot show the whole range).
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


def sim_runs(expr: str, seeds: int, strategy: str) -> Dict[str, List[int]]:
    counts: Dict[str, List[int]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as folder:
        results = Path(folder) / "r.jsonl"
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k",
                        expr, "src/raft", "--sim", f"--sim-strategy={strategy}",
                        f"--sim-seeds=1-{seeds}", f"--sim-results={results}"],
                       cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for line in results.read_text().splitlines():
            result = json.loads(line)
            found = PASSED.search(result.get("passed_line", ""))
            if found:
                counts[result["name"]].append(int(found.group(2)))
    return counts


def _spread(values: List[int]) -> str:
    if not values:
        return "-"
    return f"{min(values)}/{int(statistics.median(values))}/{max(values)} (n={len(values)})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="expr", default="2A")
    parser.add_argument("--real", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--slack", type=float, default=0.10)
    args = parser.parse_args()
    real = real_runs(args.expr, args.real)
    print("RPC counts, min/median/max | test | real time | --sim random | --sim pct | "
          "sim counts inside the real range (+-slack)")
    sims = {s: sim_runs(args.expr, args.seeds, s) for s in ("random", "pct")}
    for name in sorted(set(real) | set(sims["random"])):
        low = min(real.get(name, [0])) * (1 - args.slack)
        high = max(real.get(name, [0])) * (1 + args.slack)
        inside = []
        for strategy in ("random", "pct"):
            values = sims[strategy].get(name, [])
            share = sum(low <= v <= high for v in values)
            inside.append(f"{strategy} {share}/{len(values)}")
        print(f"| {name} | {_spread(real.get(name, []))} | {_spread(sims['random'].get(name, []))}"
              f" | {_spread(sims['pct'].get(name, []))} | {', '.join(inside)} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
