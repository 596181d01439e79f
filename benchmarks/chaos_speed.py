"""How many seeds raft-chaos runs a minute, part by part, on the solution.

    python -m benchmarks.chaos_speed                  a minute of each part, -p 2
    python -m benchmarks.chaos_speed --time 30 --parts 2A,2B -p 1

For each part: `raft-chaos --parts P -p N --time T --results FILE` from a
random first seed; prints the seeds it passed, seeds a minute, and the
median simulated length of a seed and its calms' figures (how long a
quiet majority waited for its leader, and one() for its commit: the
largest of each over the part's seeds). A failure is printed as
raft-chaos prints it (the solution should have none).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="2A,2B,2C,2D", help="the parts, a comma list")
    parser.add_argument("--time", type=float, default=60.0, help="seconds a part (default 60)")
    parser.add_argument("-p", dest="processes", type=int, default=2,
                        help="worker processes (default 2)")
    args = parser.parse_args()
    print(f"| part | seeds in {args.time:g} s | seeds a minute | simulated s a seed (median) "
          f"| longest wait for a leader (s) | longest one() (s) |")
    print("|---|---|---|---|---|---|", flush=True)
    for part in args.parts.split(","):
        results = Path(tempfile.mkdtemp(prefix="chaos-speed-")) / "results.jsonl"
        done = subprocess.run(
            [sys.executable, "-m", "labtools.chaos.cli", "--parts", part, "-p",
             str(args.processes), "--time", f"{args.time:g}", "--results", str(results)],
            cwd=ROOT, stdout=subprocess.PIPE, text=True)
        rows = [json.loads(line) for line in results.read_text().splitlines()] \
            if results.exists() else []
        passed = [row for row in rows if row["ok"]]
        if done.returncode != 0:
            print(done.stdout, file=sys.stderr)
        leader = max((wait for row in passed for wait in row["leader_waits"]), default=0.0)
        agree = max((wait for row in passed for wait in row["agreement_waits"]), default=0.0)
        virtual = statistics.median(row["virtual_s"] for row in passed) if passed else 0.0
        print(f"| {part} | {len(passed)} | {len(passed) * 60 / args.time:.0f} | {virtual:.1f} "
              f"| {leader:.2f} | {agree:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
