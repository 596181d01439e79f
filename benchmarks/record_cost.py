"""What the run's record and the monitors cost.

    python benchmarks/record_cost.py [--rounds 10] [--calls 20000]

1. The 2A tests' CPU time (user + system of a `pytest -k 2A` process),
   with the record and the monitors on (the default) and off
   (RAFT_MONITORS=0). Each round starts the two processes at the same
   moment, so that both see the same machine (the 2A tests sleep most of
   their 14 s: two at once barely compete for the 2 CPUs), and gives one
   ratio; the figure is the median ratio over the rounds, with the
   quartiles. The issue's target: at most +15%. A lone process's CPU
   varies by 20% from one run to the next on this shared machine, so
   rounds run in sequence and compared by their medians need many more
   runs to say the same.
2. A labrpc call (microseconds, sequential calls on one end, an args object
   shaped like AppendEntries') with no record attached, and with one
   attached (with and without the monitors on it): what labrpc pays for the
   hook when nothing listens is one attribute test.
"""

from __future__ import annotations

import argparse
import os
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


def tests_cpu_pair() -> "tuple[float, float]":
    """(CPU seconds off, CPU seconds on) of two `pytest -k 2A` runs started together."""
    procs = {}
    for monitors_on in (False, True):
        env = dict(os.environ, RAFT_MONITORS="1" if monitors_on else "0")
        env.pop("RAFT_RECORD", None)
        procs[monitors_on] = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "2A",
             "src/raft/test_raft.py"], cwd=REPO, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT)
    cpu = {}
    for monitors_on, proc in procs.items():
        output = proc.stdout.read() if proc.stdout else b""
        # wait4 gives this child's own rusage, not the sum over all children.
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit("the 2A tests failed (monitors "
                             f"{'on' if monitors_on else 'off'}):\n"
                             f"{output.decode(errors='replace')[-2000:]}")
        cpu[monitors_on] = usage.ru_utime + usage.ru_stime
    return cpu[False], cpu[True]


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
    parser.add_argument("--rounds", type=int, default=10,
                        help="rounds of a -k 2A run each way")
    parser.add_argument("--calls", type=int, default=20000, help="labrpc calls each way")
    args = parser.parse_args()

    off: List[float] = []
    on: List[float] = []
    ratios: List[float] = []
    for round_ in range(args.rounds):
        cpu_off, cpu_on = tests_cpu_pair()
        off.append(cpu_off)
        on.append(cpu_on)
        ratios.append(cpu_on / cpu_off)
        print(f"round {round_ + 1}: -k 2A CPU with monitors off {cpu_off:.2f} s, on "
              f"{cpu_on:.2f} s ({(cpu_on / cpu_off - 1) * 100:+.0f}%)", flush=True)
    low, _, high = (statistics.quantiles(ratios, n=4) if len(ratios) > 1
                    else [ratios[0]] * 3)
    print(f"2A tests' CPU, {args.rounds} rounds: off {statistics.median(off):.2f} s, on "
          f"{statistics.median(on):.2f} s (medians); on/off, median of the rounds "
          f"{(statistics.median(ratios) - 1) * 100:+.1f}% (quartiles {(low - 1) * 100:+.1f}% "
          f"to {(high - 1) * 100:+.1f}%)")

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
