"""How fast Raft elects, and what a quiet cluster costs.

    python -m benchmarks.elections [--trials 20] [--peers 3 5 7]

For each cluster size: the time from start to the first leader, and from the
leader's disconnection to a new leader (median and max over the trials).
Then heartbeat RPCs a second in a 3-peer cluster with a stable leader (the
tester allows at most 10 heartbeat rounds a second, so 20 is the ceiling).
Times are found by polling GetState every 2 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import List, Optional, Tuple

from raft.config import Config, make_config
from labtest.testing import T

POLL_S = 0.002
GIVE_UP_S = 10.0


def _leader(cfg: Config, newer_than: int) -> Optional[int]:
    for i in range(cfg.n):
        if cfg.connected[i]:
            term, is_leader = cfg.rafts[i].GetState()
            if is_leader and term > newer_than:
                return i
    return None


def _time_until_leader(cfg: Config, newer_than: int) -> Tuple[float, int]:
    t0 = time.monotonic()
    while time.monotonic() - t0 < GIVE_UP_S:
        leader = _leader(cfg, newer_than)
        if leader is not None:
            return time.monotonic() - t0, leader
        time.sleep(POLL_S)
    raise SystemExit(f"no leader within {GIVE_UP_S} s")


def one_trial(peers: int) -> Tuple[float, float]:
    """Seconds to the first election, and to the re-election after a failure."""
    with make_config(T(echo=False), peers, False) as cfg:
        first, leader = _time_until_leader(cfg, 0)
        time.sleep(0.5)  # let heartbeats settle into their rhythm
        old_term, _ = cfg.rafts[leader].GetState()
        cfg.disconnect(leader)
        again, _ = _time_until_leader(cfg, old_term)
    return first, again


def heartbeat_rate(seconds: float) -> float:
    with make_config(T(echo=False), 3, False) as cfg:
        _time_until_leader(cfg, 0)
        time.sleep(1.0)
        rpcs0 = cfg.rpcTotal()
        time.sleep(seconds)
        return (cfg.rpcTotal() - rpcs0) / seconds


def _ms(values: List[float]) -> str:
    return f"median {statistics.median(values) * 1000:4.0f} ms, max {max(values) * 1000:4.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--peers", type=int, nargs="+", default=[3, 5, 7])
    parser.add_argument("--quiet-seconds", type=float, default=5.0)
    args = parser.parse_args()
    for peers in args.peers:
        firsts, agains = [], []
        for _ in range(args.trials):
            first, again = one_trial(peers)
            firsts.append(first)
            agains.append(again)
        print(f"{peers} peers: first election {_ms(firsts)}; "
              f"re-election {_ms(agains)} ({args.trials} trials)", flush=True)
    rate = heartbeat_rate(args.quiet_seconds)
    print(f"stable leader, 3 peers: {rate:.1f} RPCs a second "
          f"(over {args.quiet_seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
