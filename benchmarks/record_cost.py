"""What the run's record and the monitors cost.

    python -m benchmarks.record_cost [--rounds 10] [--calls 20000]

1. The 2A tests' CPU time (user + system), with the record and the
   monitors on (the default) and off (RAFT_MONITORS=0), two ways: the
   whole `pytest -k 2A` process, and the tests alone (from the first
   test's setup on, measured by cpu_probe.py inside the process). Each
   round starts the two processes at the same moment, so that both see
   the same machine (the 2A tests sleep most of their 14 s: two at once
   barely compete for the 2 CPUs), and gives one ratio; the figure is the
   median ratio over the rounds, with the quartiles. The issue's target:
   at most +15%. A lone process's CPU varies by 20% from one run to the
   next on this shared machine, so runs made one after another and
   compared by their medians need many more of them to say the same.
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
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional

REPO = Path(__file__).resolve().parents[1]

import labrpc  # noqa: E402
from labrpc.record import Record  # noqa: E402
import monitors.rules as monitors  # noqa: E402


def tests_cpu_pair() -> "tuple[tuple[float, float], tuple[float, float]]":
    """((process CPU, tests' CPU) off, the same on) of two `pytest -k 2A` runs started together.

    The process's CPU includes the interpreter's and pytest's start-up and
    the collection (about 0.25 s, the same either way); the tests' CPU is
    what cpu_probe.py measures from the first test's setup on.
    """
    procs = {}
    with tempfile.TemporaryDirectory() as folder:
        for monitors_on in (False, True):
            env = dict(os.environ, RAFT_MONITORS="1" if monitors_on else "0",
                       CPU_PROBE_FILE=str(Path(folder) / f"on{int(monitors_on)}"))
            env.pop("RAFT_RECORD", None)
            procs[monitors_on] = subprocess.Popen(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
                 "benchmarks.cpu_probe", "-k", "2A", "src/raft/test_raft.py"], cwd=REPO, env=env,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
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
            tests = float((Path(folder) / f"on{int(monitors_on)}").read_text())
            cpu[monitors_on] = (usage.ru_utime + usage.ru_stime, tests)
    return cpu[False], cpu[True]


def _summary(what: str, off: List[float], on: List[float]) -> str:
    ratios = [b / a for a, b in zip(off, on)]
    low, _, high = (statistics.quantiles(ratios, n=4) if len(ratios) > 1
                    else [ratios[0]] * 3)
    return (f"{what}: off {statistics.median(off):.3f} s, on {statistics.median(on):.3f} s "
            f"(medians); on/off, median of the rounds {(statistics.median(ratios) - 1) * 100:+.1f}%"
            f" (quartiles {(low - 1) * 100:+.1f}% to {(high - 1) * 100:+.1f}%)")


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

    rounds = []  # ((process CPU, tests' CPU) off, the same on), one a round
    for round_ in range(args.rounds):
        off, on = tests_cpu_pair()
        rounds.append((off, on))
        print(f"round {round_ + 1}: -k 2A process CPU off {off[0]:.2f} s, on {on[0]:.2f} s "
              f"({(on[0] / off[0] - 1) * 100:+.0f}%); the tests' own {off[1]:.3f} s, "
              f"{on[1]:.3f} s ({(on[1] / off[1] - 1) * 100:+.0f}%)", flush=True)
    print(f"{args.rounds} rounds, monitors off against on (the record with them):")
    for column, what in enumerate(("pytest -k 2A process CPU", "the 2A tests' own CPU")):
        print("  " + _summary(what, [off[column] for off, _ in rounds],
                              [on[column] for _, on in rounds]))

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
