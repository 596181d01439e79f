"""How many record events a second the monitors check, here and at another git revision.

    python -m benchmarks.monitor_speed                     # this tree's monitors
    python -m benchmarks.monitor_speed --against REV       # and REV's, side by side
    python -m benchmarks.monitor_speed --record FILE.jsonl # a saved record (Record.save)

The events of one record are fed straight to the monitors' subscriber
(what Record.add does under its lock), then flushed; no clock, no network:
only the rules' own work. Without --record, a record is made first: a
5-peer cluster of the solution on an unreliable network agreeing on
commands, with a leader cut off and a follower restarted (about 10 s of
real time, its record kept, the monitors off while it runs).

Each side runs in its own process, importing its own `src` (REV's is
taken out with `git archive`), the sides taking turns for --rounds rounds;
a side's figure is its best pass (the least disturbed by the machine's
other work), events / seconds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

REPO = Path(__file__).resolve().parents[1]


def make_record(path: Path) -> int:
    """Run a cluster of the solution with the record on, monitors off; save it."""
    os.environ["RAFT_RECORD"] = "1"
    os.environ["RAFT_MONITORS"] = "0"
    from labtest.testing import T
    from raft.config import make_config

    t = T(echo=False)
    with make_config(t, 5, True) as cfg:
        for command in range(20):
            cfg.one(command, 3, True)
        leader = cfg.checkOneLeader()
        cfg.disconnect(leader)
        for command in range(20, 35):
            cfg.one(command, 3, True)
        cfg.connect(leader)
        follower = (cfg.checkOneLeader() + 1) % 5
        cfg.crash1(follower)
        for command in range(35, 45):
            cfg.one(command, 3, True)
        cfg.start1(follower)
        cfg.connect(follower)
        cfg.one(99, 5, True)
        record = cfg.record
    assert record is not None, "RAFT_RECORD=1 keeps a record"
    record.save(path)
    return len(record.events)


def feed(path: Path, passes: int) -> None:
    """(worker) Print the best events/second of `passes` feeds of the record at path."""
    from labrpc.record import Record
    from monitors.rules import attach

    events = Record.load(path).events
    peers = next(e["peers"] for e in events if e["kind"] == "meta")
    best = float("inf")
    for _ in range(passes):
        record = Record(clock=lambda: 0.0)
        reports: List[str] = []
        monitors = attach(record, peers, reports.append, lambda line: None)
        t0 = time.perf_counter()
        for event in events:
            monitors(event)
        monitors.flush()
        best = min(best, time.perf_counter() - t0)
        if reports:
            raise SystemExit(f"the monitors found a violation in the record: {reports[0]}")
    print(f"{len(events) / best:.0f}")


def extract_src(rev: str, folder: Path) -> Path:
    """REV's src/ tree, written under folder; its path."""
    folder.mkdir()
    archive = subprocess.run(["git", "archive", "--format=tar", rev, "src"], cwd=REPO,
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "src"


def run_side(src: Optional[Path], record: Path, passes: int) -> float:
    """Events a second of one side's monitors (src None: this tree's)."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)  # ahead of this tree's src (an editable install's path)
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.monitor_speed", "--feed", str(record),
         "--passes", str(passes)], cwd=REPO, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"feeding the record failed:\n{result.stdout}{result.stderr}")
    return float(result.stdout.split()[-1])


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="REV", help="also time the monitors of this "
                        "git revision")
    parser.add_argument("--record", type=Path, help="a saved record (default: make one)")
    parser.add_argument("--rounds", type=int, default=5, help="turns each side takes")
    parser.add_argument("--passes", type=int, default=20, help="feeds of the record a turn")
    parser.add_argument("--feed", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.feed:
        feed(args.feed, args.passes)
        return 0
    with tempfile.TemporaryDirectory() as folder:
        record = args.record
        if record is None:
            record = Path(folder) / "record.jsonl"
            print(f"made a record of {make_record(record)} events", flush=True)
        sides: Dict[str, Optional[Path]] = {"this tree": None}
        if args.against:
            sides[args.against] = extract_src(args.against, Path(folder) / "against")
        best: Dict[str, float] = {name: 0.0 for name in sides}
        for round_ in range(args.rounds):
            figures = []
            for name, src in sides.items():
                rate = run_side(src, record, args.passes)
                best[name] = max(best[name], rate)
                figures.append(f"{name} {rate:,.0f}")
            print(f"round {round_ + 1}: events/s " + ", ".join(figures), flush=True)
        print("best, events/s: " + ", ".join(f"{name} {rate:,.0f}"
                                             for name, rate in best.items()))
        if args.against:
            mine, theirs = best["this tree"], best[args.against]
            print(f"this tree / {args.against}: {mine / theirs:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
