"""How fast the simulation runs the lab, against real time measured in the same run.

    python -m benchmarks.sim_speed              micro figures + pytest -k 2A, both ways
    python -m benchmarks.sim_speed --suite      + the whole 2A-2D suite under --sim
    python -m benchmarks.sim_speed --seeds 1000 + raft-stress --sim -n 1000 -k 2A -p 2

Figures printed: the cost of one scheduler switch and of one thread start
(start + first turn + end) under the simulation, beside a real thread
start; wall time of whole pytest processes (start-up included) in real
time and under --sim, and their ratio. The simulation's targets: 2A at
least 25x faster, 2A-2D within 20 s, 1000 seeds of 2A within 120 s with -p 2.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

import labsim  # noqa: E402
from labsim import primitives  # noqa: E402  (its real clocks: a name bound here would be patched)


def _switch_cost(rounds: int = 20000) -> float:
    """Seconds per switch: two threads that sleep 1 ms in turn (one switch each)."""
    def body() -> float:
        def sleeper() -> None:
            for _ in range(rounds):
                time.sleep(0.001)
        threads = [threading.Thread(target=sleeper) for _ in (0, 1)]
        for th in threads:
            th.start()
        sim = labsim.active()
        switches0 = sim.switches
        t0 = primitives.real_perf_counter()
        for th in threads:
            th.join()
        return (primitives.real_perf_counter() - t0) / max(1, sim.switches - switches0)
    return labsim.run(body, seed=1, perturb_s=0.0)


def _real_thread_start(count: int = 2000) -> float:
    """Seconds to start and join one thread (real seconds, under the simulation too)."""
    t0 = primitives.real_perf_counter()
    for _ in range(count):
        th = threading.Thread(target=lambda: None)
        th.start()
        th.join()
    return (primitives.real_perf_counter() - t0) / count


def _sim_thread_start(count: int = 2000) -> float:
    return labsim.run(lambda: _real_thread_start(count), seed=1, perturb_s=0.0)


def _pytest(args: list) -> float:
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    took = time.monotonic() - t0
    last = done.stdout.decode(errors="replace").strip().splitlines()[-1]
    print(f"    `pytest {' '.join(args)}`: {took:.2f} s ({last})", flush=True)
    if done.returncode != 0:
        print(done.stdout.decode(errors="replace")[-3000:])
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", action="store_true", help="also time 2A-2D under --sim")
    parser.add_argument("--seeds", type=int, default=0,
                        help="also time raft-stress --sim -n N -k 2A -p 2")
    args = parser.parse_args()
    real_start = _real_thread_start()  # before the patches are installed
    switch = _switch_cost()
    start = _sim_thread_start()
    print(f"one scheduler switch: {switch * 1e6:.1f} us; one thread start under the "
          f"simulation: {start * 1e6:.1f} us (a real start + join: {real_start * 1e6:.1f} us)")
    print("pytest -k 2A, whole process:", flush=True)
    sim = _pytest(["--sim", "-k", "2A", "src/raft"])
    real = _pytest(["-k", "2A", "src/raft"])
    print(f"2A: {real:.1f} s real time, {sim:.2f} s under --sim: {real / sim:.1f}x "
          "(target >= 25x)")
    if args.suite:
        suite = _pytest(["--sim", "src/raft"])
        print(f"2A-2D under --sim: {suite:.1f} s (target <= 20 s)")
    if args.seeds:
        t0 = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "labtools.stress", "--sim", "-n",
                               str(args.seeds), "-k", "2A", "-p", "2", "--batch",
                               str(max(1, args.seeds // 8))], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              env=dict(os.environ, PYTHONPATH=str(ROOT / "src")))
        took = time.monotonic() - t0
        print(f"{args.seeds} seeds of 2A with raft-stress --sim -p 2: {took:.1f} s "
              f"(target <= 120 s for 1000): "
              f"{done.stdout.decode(errors='replace').strip().splitlines()[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
