"""How many seeds raft-chaos runs a minute, part by part, on the solution,
and what its calms took.

    python -m benchmarks.chaos_speed                  a minute of each part, -p 2
    python -m benchmarks.chaos_speed --time 30 --parts 2A,2B -p 1
    python -m benchmarks.chaos_speed --summarize results.jsonl ...
                                                      the same table from
                                                      `raft-chaos --results` files

For each part: `raft-chaos --parts P -p N --time T --results FILE` from a
random first seed. The table: the seeds that passed, seeds a minute (not
with --summarize), the median simulated length of a seed, and the
largest, over the seeds, of how long a quiet majority waited for its
leader (bound 5 s) and for one()'s commit (bound 10 s), and of the lag in
taking a reply's newer term (monitors.reply_terms; its grace under the
simulation is 50 ms). A failure is printed as raft-chaos prints it (the
solution should have none).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]


def _row(part: str, rows: List[Dict[str, Any]], seconds: Optional[float]) -> str:
    passed = [row for row in rows if row["ok"]]
    failed = len(rows) - len(passed)
    leader = max((wait for row in passed for wait in row["leader_waits"]), default=0.0)
    agree = max((wait for row in passed for wait in row["agreement_waits"]), default=0.0)
    lag = max((row.get("reply_lag") or 0.0 for row in passed), default=0.0)
    virtual = statistics.median(row["virtual_s"] for row in passed) if passed else 0.0
    rate = f"{len(passed) * 60 / seconds:.0f}" if seconds else "-"
    return (f"| {part} | {len(passed)} | {failed} | {rate} | {virtual:.1f} | {leader:.2f} | "
            f"{agree:.2f} | {lag * 1000:.2f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="2A,2B,2C,2D", help="the parts, a comma list")
    parser.add_argument("--time", type=float, default=60.0, help="seconds a part (default 60)")
    parser.add_argument("-p", dest="processes", type=int, default=2,
                        help="worker processes (default 2)")
    parser.add_argument("--summarize", nargs="+", type=Path, default=None, metavar="FILE",
                        help="summarize these raft-chaos --results files instead of running")
    args = parser.parse_args()
    print("| part | seeds passed | failed | seeds a minute | simulated s a seed (median) "
          "| longest wait for a leader (s) | longest one() (s) | largest reply lag (ms) |")
    print("|---|---|---|---|---|---|---|---|", flush=True)
    if args.summarize:
        rows = [json.loads(line) for path in args.summarize
                for line in path.read_text().splitlines() if line.strip()]
        for part in sorted({row["part"] for row in rows}):
            print(_row(part, [row for row in rows if row["part"] == part], None))
        return 0
    for part in args.parts.split(","):
        results = Path(tempfile.mkdtemp(prefix="chaos-speed-")) / "results.jsonl"
        done = subprocess.run(
            [sys.executable, "-m", "labtools.chaos.cli", "--parts", part, "-p",
             str(args.processes), "--time", f"{args.time:g}", "--results", str(results)],
            cwd=ROOT, stdout=subprocess.PIPE, text=True)
        if done.returncode != 0:
            print(done.stdout, file=sys.stderr)
        rows = [json.loads(line) for line in results.read_text().splitlines()] \
            if results.exists() else []
        print(_row(part, rows, args.time), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
