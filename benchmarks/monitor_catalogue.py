"""Which seeded student bugs one run of their part catches, with and without monitors.

    python -m benchmarks.monitor_catalogue                 # every bug in tests/bugs
    python -m benchmarks.monitor_catalogue vote_twice heartbeat_too_fast
    python -m benchmarks.monitor_catalogue --markdown      # the table for docs/figures.md

Each bug (tests/bugs) is graded as raft-grade grades a submission: its
part's tests in order, each in a fresh process, stopping at the first
failure; once with the monitors on (the default) and once with them off
(the Go lab's verdicts). A row says whether each caught it, in which test and
how (the failure's first line), and whether a monitor watches the rule the
bug breaks. One process at a time: CPU-light, but long (2C and 2D bugs that
escape run their whole part).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional, Tuple


from tests.bugs import Bug, catalogue
from labstaff import grading  # noqa: E402
from monitors.rules import SOURCES  # noqa: E402

# The rules the monitors (monitors.rules) and the harness's applyCh check.
MONITORED = set(SOURCES) | {"applyCh deadlock"}
TEST_TIMEOUT_S = 120.0


def first_failure(bug: Bug, monitors: bool) -> Tuple[Optional[str], str, float]:
    """(the failed test or None, its reason, seconds) for one run of bug's part."""
    with tempfile.TemporaryDirectory() as folder:
        submission = bug.write(Path(folder))
        sandbox = grading.make_sandbox(submission)
    saved = os.environ.get("RAFT_MONITORS")
    os.environ["RAFT_MONITORS"] = "1" if monitors else "0"
    t0 = time.monotonic()
    try:
        for name in grading.tests_of([bug.part]):
            outcome = grading.run_test(sandbox, name, TEST_TIMEOUT_S)
            if not outcome.passed:
                return name, outcome.reason, time.monotonic() - t0
        return None, "", time.monotonic() - t0
    finally:
        if saved is None:
            os.environ.pop("RAFT_MONITORS", None)
        else:
            os.environ["RAFT_MONITORS"] = saved
        sandbox.close()


def _cell(result: Tuple[Optional[str], str, float]) -> str:
    test, reason, seconds = result
    if test is None:
        return f"passes ({seconds:.0f} s)"
    reason = reason.replace("labtest.testing.TestFailure: ", "").replace("|", "/")
    if len(reason) > 150:
        reason = reason[:147] + "..."
    return f"**caught** by {test} ({seconds:.0f} s): {reason}"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bugs", nargs="*", help="bug names (default: all)")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = parser.parse_args(argv)
    bugs = catalogue(args.bugs)
    rows = []
    for bug in bugs:
        with_monitors = first_failure(bug, monitors=True)
        without = first_failure(bug, monitors=False)
        watched = "yes" if bug.rule in MONITORED else "no"
        rows.append((bug, watched, with_monitors, without))
        print(f"{bug.name} ({bug.part}; rule: {bug.rule}; monitored: {watched})\n"
              f"  monitors on:  {_cell(with_monitors)}\n"
              f"  monitors off: {_cell(without)}", flush=True,
              file=sys.stderr if args.markdown else sys.stdout)
    if args.markdown:
        print("| bug | part | rule it breaks | monitored | monitors on | monitors off (Go) |")
        print("|---|---|---|---|---|---|")
        for bug, watched, with_monitors, without in rows:
            print(f"| {bug.name} | {bug.part} | {bug.rule or '-'} | {watched} | "
                  f"{_cell(with_monitors)} | {_cell(without)} |")
    caught_on = sum(1 for row in rows if row[2][0] is not None)
    caught_off = sum(1 for row in rows if row[3][0] is not None)
    print(f"\ncaught in one run: {caught_on}/{len(rows)} with monitors, "
          f"{caught_off}/{len(rows)} without")
    return 0


if __name__ == "__main__":
    sys.exit(main())
