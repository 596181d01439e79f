"""Fidelity: the Passed line's figures under --sim against real-time runs,
and whether every simulated seed passes.

    python -m benchmarks.sim_fidelity                 -k 2A: 5 real runs, 200 seeds
    python -m benchmarks.sim_fidelity -k "2A or 2B or 2C or 2D" --real 5 --seeds 100 \
        --real-file real.json -j 2

For each test, the RPC count of its Passed line: min, median and max over
the real-time runs and over the simulated seeds (strategy random, then
pct), how many simulated counts fall inside the range the real runs show,
widened by the given slack (default 10%: a handful of real runs cannot
show the whole range), and how many seeds failed (each with its replay
command). --real-file keeps the real runs' counts (they take the real
suite's minutes) and reuses them when the file exists; given more than
once, the files' counts are pooled (say, runs on an idle machine and runs
beside a stress loop). --sim-file keeps the simulated counts likewise, so
a later call can set them against more real runs without the seeds.

What "inside" can be expected to reach: with R real runs, a further real
run falls outside their range with probability 2/(R+1) (of R+1 runs from
one distribution, each is equally likely to be the lowest or the
highest), so even the real lab puts only (R-1)/(R+1) of its runs inside:
67% for 5 runs, 90% for 20. The "real" column of the last table says how
many real runs fall inside the range of the others (widened alike).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parents[1]

from labtools.pool import ProcessPool  # noqa: E402
from labtools.simstress import add_seed_batches  # noqa: E402

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
             ) -> "tuple[Dict[str, List[int]], List[str], int, int]":
    """(RPC counts per test, what failed (replay commands, batches that ran no
    test), runs passed, runs) over seeds 1..seeds."""
    counts: Dict[str, List[int]] = defaultdict(list)
    failures: List[str] = []
    runs = passed = 0
    jobs = max(1, min(jobs, seeds))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", expr,
               "src/raft", "--sim", f"--sim-strategy={strategy}"]
    env = {key: value for key, value in os.environ.items() if key != "RAFT_DEBUG"}
    # (Not pinned to CPUs of their own: this often runs beside a stress loop,
    # which hands out the same slots.)
    with tempfile.TemporaryDirectory(prefix="sim-fidelity-") as folder, \
            ProcessPool(jobs, pin=False) as pool:
        add_seed_batches(pool, command, list(range(1, seeds + 1)), -(-seeds // jobs), env,
                         Path(folder), cwd=ROOT)
        for job in pool.finished():
            batch = job.data
            batch.new_results()
            if batch.ran_no_test(job):
                failures.append(f"(seeds {batch.seeds[0]}-{batch.seeds[-1]} ran no test: "
                                f"exit {job.returncode})\n{job.output()[-2000:]}")
            for result in batch.results:
                runs += 1
                if result["outcome"] == "failed":
                    failures.append(result["replay"])
                else:
                    passed += 1
                found = PASSED.search(result.get("passed_line", ""))
                if found:
                    counts[result["name"]].append(int(found.group(2)))
    return counts, failures, passed, runs


def _spread(values: List[int]) -> str:
    if not values:
        return "-"
    return f"{min(values)}/{int(statistics.median(values))}/{max(values)} (n={len(values)})"


def _inside(value: int, real: List[int], slack: float) -> bool:
    return bool(real) and min(real) * (1 - slack) <= value <= max(real) * (1 + slack)


def _inside_others(real: List[int], slack: float) -> int:
    """How many real runs lie inside the (widened) range of the other real runs."""
    return sum(_inside(value, real[:at] + real[at + 1:], slack)
               for at, value in enumerate(real))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="expr", default="2A")
    parser.add_argument("--real", type=int, default=5, help="real-time runs (default 5)")
    parser.add_argument("--real-file", type=Path, action="append", default=[],
                        help="keep the real runs' counts here; reuse them if it exists "
                        "(repeat to pool several files)")
    parser.add_argument("--seeds", type=int, default=200,
                        help="seeds 1..N (default 200; 0: only the real runs)")
    parser.add_argument("-j", dest="jobs", type=int, default=1,
                        help="simulated processes at a time (default 1)")
    parser.add_argument("--slack", type=float, default=0.10)
    parser.add_argument("--sim-file", type=Path, default=None,
                        help="keep the simulated runs' counts and outcomes here; reuse them "
                        "if it exists (to compare them with more real runs later)")
    args = parser.parse_args()
    kept = {}
    if args.sim_file is not None and args.sim_file.exists():
        kept = json.loads(args.sim_file.read_text())
        made_for = {done.get("expr", args.expr) for done in kept.values()}
        if made_for != {args.expr}:
            print(f"sim_fidelity: {args.sim_file} holds the seeds of -k "
                  f"{' and '.join(sorted(made_for))!r}, not of -k {args.expr!r}; "
                  "give another --sim-file", file=sys.stderr)
            return 2
        print(f"simulated counts from {args.sim_file}")
    for strategy in ("random", "pct") if args.seeds > 0 or kept else ():
        if strategy not in kept:
            counts, failures, passed, runs = sim_runs(args.expr, args.seeds, strategy,
                                                      args.jobs)
            kept[strategy] = {"counts": counts, "failures": failures, "passed": passed,
                              "runs": runs, "seeds": args.seeds, "expr": args.expr}
            if args.sim_file is not None:
                args.sim_file.write_text(json.dumps(kept, indent=1, sort_keys=True))
        done = kept[strategy]
        print(f"--sim-strategy {strategy}: {done['passed']}/{done['runs']} runs passed "
              f"(seeds 1-{done['seeds']})", flush=True)
        for replay in done["failures"]:
            print(f"  failed: {replay}")
    sims = {strategy: done["counts"] for strategy, done in kept.items()}
    # (after the seeds: a second copy started beside this one may write the file)
    real: Dict[str, List[int]] = defaultdict(list)
    missing = [path for path in args.real_file if not path.exists()]
    for path in args.real_file:
        if path not in missing:
            for name, values in json.loads(path.read_text()).items():
                real[name].extend(values)
            print(f"real-time counts from {path}")
    if missing or not args.real_file:
        measured = real_runs(args.expr, args.real)
        for name, values in measured.items():
            real[name].extend(values)
        if missing:
            missing[0].write_text(json.dumps(measured, indent=1, sort_keys=True))
    print("| test | real time | --sim random | --sim pct | inside the real range (+-"
          f"{args.slack:.0%}) |\n|---|---|---|---|---|")
    simulated = set(sims.get("random", {})) | set(sims.get("pct", {}))
    for name in sorted(simulated or real):
        values = real.get(name, [])
        inside = [f"real {_inside_others(values, args.slack)}/{len(values)}"]
        for strategy in ("random", "pct"):
            counts = sims.get(strategy, {}).get(name, [])
            share = sum(_inside(v, values, args.slack) for v in counts)
            inside.append(f"{strategy} {share}/{len(counts)}")
        columns = [_spread(values)] + [
            _spread(sims.get(strategy, {}).get(name, [])) for strategy in ("random", "pct")]
        print(f"| {name} | {' | '.join(columns)} | {', '.join(inside)} |", flush=True)
    print("(RPC counts of the Passed line: min/median/max)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
