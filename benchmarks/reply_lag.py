"""How long the solution goes on sending an older term after a reply told it
of a newer one: the figure behind the grace of monitors.rules.reply_term_adopted.

    python -m benchmarks.reply_lag --sim-seeds 50          the 2A-2D tests under --sim
    python -m benchmarks.reply_lag --real-runs 4           the same in real time
    python -m benchmarks.reply_lag --chaos-time 120        raft-chaos's seeds of every part
    python -m benchmarks.reply_lag -k 2A --real-runs 10    other tests

Each source runs two processes at a time. A test's lag is the largest,
over its record, of (a request's send - the first reply that had told its
sender, same incarnation, of a newer term than the request's): what the
rule would see with no grace at all (reply_term_adopted.largest_lag).
Prints, per source, how many runs, how many had any lag, the largest and
the 99th percentile, and any run whose test failed.

Also a pytest plugin (-p benchmarks.reply_lag --reply-lag-file=FILE): one
JSON line per test, {"test", "lag", "outcome"} and, for a failed test,
"why" (its first E line).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

ROOT = Path(__file__).resolve().parents[1]
SIM_BLOCK = 5


# --- the pytest plugin ------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--reply-lag-file", default=None,
                     help="append each test's largest reply-term lag to this file")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    path = item.config.getoption("reply_lag_file")
    if call.when != "call" or not path:
        return
    from monitors.pytest_plugin import records_of
    from monitors.rules.reply_term_adopted import largest_lag
    report = outcome.get_result()
    lag = max((largest_lag(record.events) for record in records_of(item)), default=0.0)
    row = {"test": item.name, "lag": lag, "outcome": report.outcome}
    if report.failed:
        row["why"] = next((line for line in report.longreprtext.splitlines()
                           if line.startswith("E ")), "")[:200]
    with open(path, "a") as out:
        out.write(json.dumps(row) + "\n")


# --- the driver ---------------------------------------------------------------------


def _pytest_runs(expr: str, extra: List[List[str]], results: Path) -> None:
    """Run `pytest -k expr` once per entry of extra, two at a time."""
    base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "-p", "benchmarks.reply_lag", f"--reply-lag-file={results}", "-k", expr,
            "src/raft/test_raft.py"]
    env = dict(os.environ)
    env.pop("RAFT_DEBUG", None)
    pending = list(extra)
    running: List[subprocess.Popen] = []
    while pending or running:
        while pending and len(running) < 2:
            running.append(subprocess.Popen([*base, *pending.pop(0)], cwd=ROOT, env=env,
                                            stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL))
        time.sleep(0.2)
        running = [process for process in running if process.poll() is None]


def _summary(name: str, lags: List[Dict[str, Any]]) -> None:
    values = sorted(row["lag"] for row in lags)
    if not values:
        print(f"{name}: no runs")
        return
    nonzero = sum(1 for value in values if value > 0)
    p99 = values[min(len(values) - 1, int(0.99 * len(values)))]
    print(f"{name}: {len(values)} runs, {nonzero} with a lag, largest {values[-1] * 1000:.2f} "
          f"ms, 99th percentile {p99 * 1000:.2f} ms")
    failed = [row for row in lags if row.get("outcome") == "failed" or row.get("ok") is False]
    for row in failed:
        print(f"  failed: {row.get('test') or row.get('replay')}: "
              f"{row.get('rule') or row.get('why', '')} (lag {row['lag'] * 1000:.2f} ms)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="expr", default="2A or 2B or 2C or 2D",
                        help="the Go tests (a pytest -k expression; default 2A-2D)")
    parser.add_argument("--sim-seeds", type=int, default=0,
                        help="run the tests under --sim with seeds 1..N (two processes)")
    parser.add_argument("--real-runs", type=int, default=0,
                        help="run the tests N times in real time, two at a time")
    parser.add_argument("--chaos-time", type=float, default=0.0,
                        help="run raft-chaos over every part for this many seconds (-p 2)")
    args = parser.parse_args()
    if not (args.sim_seeds or args.real_runs or args.chaos_time):
        parser.error("nothing to run: give --sim-seeds, --real-runs or --chaos-time")
    work = Path(tempfile.mkdtemp(prefix="reply-lag-"))
    if args.sim_seeds:
        results = work / "sim.jsonl"
        # Blocks of seeds, a process each: a long pytest process keeps every
        # test's records (for the timeline) and slows down as they pile up.
        blocks = [["--sim", f"--sim-seeds={first}-{min(first + SIM_BLOCK - 1, args.sim_seeds)}"]
                  for first in range(1, args.sim_seeds + 1, SIM_BLOCK)]
        _pytest_runs(args.expr, blocks, results)
        _summary(f"Go tests under --sim, seeds 1-{args.sim_seeds}", _read(results))
    if args.real_runs:
        results = work / "real.jsonl"
        _pytest_runs(args.expr, [[] for _ in range(args.real_runs)], results)
        _summary(f"Go tests in real time, {args.real_runs} runs", _read(results))
    if args.chaos_time:
        results = work / "chaos.jsonl"
        subprocess.run([sys.executable, "-m", "labtools.chaos.cli", "--parts", "2A,2B,2C,2D",
                        "-p", "2", "--time", f"{args.chaos_time:g}", "--results", str(results)],
                       cwd=ROOT, stdout=subprocess.DEVNULL)
        rows = [dict(row, lag=row["reply_lag"] or 0.0) for row in _read(results)]
        _summary(f"raft-chaos, {args.chaos_time:g} s of seeds of 2A-2D", rows)
    print(f"(results in {work})")
    return 0


def _read(path: Path) -> List[Dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


if __name__ == "__main__":
    sys.exit(main())
