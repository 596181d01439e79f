"""Replay: random (test, seed) pairs, each run twice under --sim-check.

    python -m benchmarks.sim_replay            100 pairs (4 seeds of each of 25 tests)
    python -m benchmarks.sim_replay --pairs 50 --strategy pct

Each pair runs twice in one process with DPrintf on (RAFT_DEBUG=1); the
check fails the pair if the two runs differ in any synchronisation event
(thread, kind, place in the code, virtual time), in outcome, or in output
(DPrintf lines, Passed line). Prints how many pairs were identical.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parents[1]


def tests() -> List[str]:
    source = (ROOT / "src" / "raft" / "test_raft.py").read_text()
    return re.findall(r"^def (Test\w+2[A-D])\(", source, flags=re.MULTILINE)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--strategy", default="random")
    args = parser.parse_args()
    rng = random.Random(2026)
    names = tests()
    chosen: Dict[str, List[int]] = defaultdict(list)
    for i in range(args.pairs):
        chosen[names[i % len(names)]].append(rng.randrange(1, 1_000_000))
    t0 = time.monotonic()
    identical = 0
    for name, seeds in chosen.items():
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--sim",
             "--sim-check", f"--sim-strategy={args.strategy}",
             f"--sim-seeds={','.join(f'{seed}-{seed}' for seed in seeds)}", "-k", name, "src/raft"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=dict(os.environ, RAFT_DEBUG="1"))
        out = done.stdout.decode(errors="replace")
        differing = re.findall(r"seed (\d+) is not deterministic: ([^\n]*)", out)
        other = re.findall(r"^FAILED .*", out, flags=re.MULTILINE)
        identical += len(seeds) - len(differing)
        status = "identical" if not differing else f"DIFFER: {differing}"
        if other and not differing:
            status += f" (but failed: {other[0][:100]})"
        print(f"{name}: seeds {seeds}: {status}", flush=True)
    print(f"{identical}/{args.pairs} (test, seed) pairs ran twice with identical traces, "
          f"outcomes and output, in {time.monotonic() - t0:.0f} s")
    return 0 if identical == args.pairs else 1


if __name__ == "__main__":
    sys.exit(main())
