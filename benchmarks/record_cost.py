"""What the run's record and the monitors cost.

    python benchmarks/record_cost.py [--rounds 3] [--calls 20000]

1. The 2A tests' CPU time (user + system of the pytest process), with the
   record and the monitors on (the default) and off (RAFT_MONITORS=0), in
   alternating runs of `pytest -k 2A` in this one run, so that both see the
   same machine. The issue's target: at most +15%.
2. A labrpc call (microseconds, sequential calls on one end, an args object
   shaped like AppendEntries') with no record attached, and with one
   attached (with and without the monitors on it): what labrpc pays for the
   hook when nothing listens is one attribute test.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import labrpc  # noqa: E402
from labrpc.record import Record  # noqa: E402
from raft import monitors  # noqa: E402


def tests_cpu(monitors_on: bool) -> "tuple[float, float]":
    """(CPU seconds, wall seconds) of one `pytest -k 2A` run."""
    env = dict(os.environ, RAFT_MONITORS="1" if monitors_on else "0")
    env.pop("RAFT_RECORD", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "2A",
         "src/raft/test_raft.py"], cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"the 2A tests failed:\n{result.stdout[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


@dataclass
class Entry:
    Term: int = 0
    Command: Any = None


@dataclass
class Args:
    Term: int = 3
    LeaderId: int = 0
    PrevLogIndex: int = 10
    PrevLogTerm: int = 3
    Entries: List[Entry] = field(default_factory=lambda: [Entry(3, i) for i in range(3)])
    LeaderCommit: int = 9


@dataclass
class Reply:
    Term: int = 0
    Success: bool = False


class Peer:
    def AppendEntries(self, args: Args, reply: Reply) -> None:
        reply.Term = args.Term
        reply.Success = True


def call_us(calls: int, record: Optional[Record]) -> float:
    """Microseconds a call, one after another on one end."""
    net = labrpc.MakeNetwork()
    try:
        net.attach_record(record)
        server = labrpc.MakeServer()
        server.AddService(labrpc.MakeService(Peer()))
        net.AddServer(1, server)
        end = net.MakeEnd("e")
        net.Connect("e", 1)
        net.label_end("e", src=0, src_life=1)
        net.Enable("e", True)
        args = Args()
        t0 = time.perf_counter()
        for _ in range(calls):
            end.Call("Peer.AppendEntries", args, Reply())
        return (time.perf_counter() - t0) / calls * 1e6
    finally:
        net.Cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs of -k 2A each way")
    parser.add_argument("--calls", type=int, default=20000, help="labrpc calls each way")
    args = parser.parse_args()

    off: List[float] = []
    on: List[float] = []
    for round_ in range(args.rounds):
        for monitors_on, into in ((False, off), (True, on)):
            cpu, wall = tests_cpu(monitors_on)
            into.append(cpu)
            print(f"round {round_ + 1}: -k 2A with monitors {'on ' if monitors_on else 'off'}: "
                  f"{cpu:.2f} s CPU, {wall:.1f} s wall", flush=True)
    m_off, m_on = statistics.median(off), statistics.median(on)
    print(f"2A tests, median CPU: off {m_off:.2f} s, on {m_on:.2f} s "
          f"({(m_on / m_off - 1) * 100:+.0f}%)")

    plain_us = []
    recorded_us = []
    monitored_us = []
    for _ in range(3):
        plain_us.append(call_us(args.calls, None))
        recorded_us.append(call_us(args.calls, Record()))
        record = Record()
        monitors.attach(record, 3, lambda message: None, lambda line: None)
        monitored_us.append(call_us(args.calls, record))
    print(f"a labrpc call (median of 3 x {args.calls}): no record {statistics.median(plain_us):.1f}"
          f" us, record {statistics.median(recorded_us):.1f} us, record + monitors "
          f"{statistics.median(monitored_us):.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
