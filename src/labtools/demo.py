"""Watch a Raft cluster on the lab's network elect leaders through failures.

    raft-demo                       # 5 peers, about 20 s, reliable network
    raft-demo --peers 7 --seconds 30 --unreliable
    raft-demo --debug               # and every DPrintf line, on stderr
    raft-demo --commands            # also submit commands; show commits

It runs in real time, on the in-process network the tests use (the
simulation, with virtual time and seeds, is `pytest --sim`).

Every --interval seconds the current leader is cut off from the network and,
--down seconds later, put back. The timeline shows each election (its term,
the winner, and how long the cluster went without a leader after the
failure); the summary gives the median and worst time to elect and the RPC
rate. With --commands, a client submits a command every --every seconds to
whichever peer leads, and once a second the timeline shows how far the
commit index has advanced (it stalls while there is no leader). It uses the
tester's own harness (raft.config) and network. If no leader is ever
elected (a student's tree before 2A works), it says so and exits 1.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from typing import List, Optional, Sequence, Tuple

from raft import util
from raft.config import Config, make_config
from labtest.testing import T

POLL_S = 0.005


def _parse(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="raft-demo",
        description="Run a Raft cluster on the lab's network in real time, fail its "
        "leader on a schedule, and print the elections.",
    )
    parser.add_argument("--peers", type=int, default=5, help="cluster size (default 5)")
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="how long to run (default 20)")
    parser.add_argument("--unreliable", action="store_true",
                        help="drop and delay messages, as the unreliable tests do")
    parser.add_argument("--interval", type=float, default=3.0,
                        help="seconds between leader failures (default 3)")
    parser.add_argument("--down", type=float, default=1.5,
                        help="seconds a failed leader stays disconnected (default 1.5)")
    parser.add_argument("--commands", action="store_true",
                        help="also submit commands and show the commit index advance")
    parser.add_argument("--every", type=float, default=0.05,
                        help="with --commands, seconds between commands (default 0.05)")
    parser.add_argument("--debug", action="store_true", help="print DPrintf lines on stderr")
    args = parser.parse_args(argv)
    if args.peers < 3:
        parser.error(f"--peers must be at least 3 so that a majority outlives a failure, "
                     f"got {args.peers}")
    if args.seconds <= 0:
        parser.error(f"--seconds must be positive, got {args.seconds:g}")
    if args.interval <= 0 or args.down <= 0:
        parser.error("--interval and --down must be positive")
    if args.every <= 0:
        parser.error(f"--every must be positive, got {args.every:g}")
    if args.down >= args.interval:
        parser.error(f"--down ({args.down:g}) must be shorter than --interval "
                     f"({args.interval:g})")
    return args


def _newest_leader(cfg: Config) -> Tuple[int, Optional[int]]:
    """(newest term among connected peers, its leader or None)."""
    best_term, leader = 0, None
    for i in range(cfg.n):
        if cfg.connected[i]:
            term, is_leader = cfg.rafts[i].GetState()
            if term > best_term or (term == best_term and is_leader):
                best_term, leader = term, (i if is_leader else None)
    return best_term, leader


def _submit(cfg: Config, command: int) -> bool:
    """Offer command to every connected peer; True if one took it as leader."""
    for i in range(cfg.n):
        if cfg.connected[i] and cfg.rafts[i].Start(command)[2]:
            return True
    return False


def run(args: argparse.Namespace) -> int:
    if args.debug:
        util.Debug = True
        util.logger.setLevel(logging.DEBUG)
        logging.basicConfig(stream=sys.stderr, format="%(message)s")

    network = "unreliable" if args.unreliable else "reliable"
    print(f"{args.peers} peers, {network} network, leader fails every {args.interval:g} s "
          f"for {args.down:g} s; running {args.seconds:g} s")
    cfg = make_config(T(echo=False), args.peers, args.unreliable)
    start = time.monotonic()
    failed_at: Optional[float] = start  # the start counts as the first "failure"
    failed_peer: Optional[int] = None
    reconnect_at = 0.0
    next_failure = start + args.interval
    seen_leader: Tuple[int, Optional[int]] = (0, None)
    after_failure: List[float] = []
    elections = 0
    submitted = accepted = 0
    next_command = start
    next_report, reported_commit = start + 1.0, 0

    def stamp(now: float) -> str:
        return f"{now - start:7.2f}s"

    try:
        while True:
            now = time.monotonic()
            if now - start >= args.seconds:
                break
            term, leader = _newest_leader(cfg)
            if leader is not None and (term, leader) != seen_leader:
                elections += 1
                seen_leader = (term, leader)
                if failed_at is not None:
                    waited = now - failed_at
                    after_failure.append(waited)
                    cause = "after start" if failed_peer is None else "after the failure"
                    print(f"{stamp(now)}  term {term:3d}: S{leader} elected leader, "
                          f"{waited * 1000:.0f} ms {cause}")
                    failed_at = None
                else:
                    print(f"{stamp(now)}  term {term:3d}: S{leader} elected leader "
                          f"(no failure: a rejoining peer forced an election)")
            if args.commands and now >= next_command:
                next_command += args.every
                submitted += 1
                accepted += _submit(cfg, submitted)
            if args.commands and now >= next_report:
                next_report += 1.0
                committed = cfg.maxIndex
                stalled = "  (stalled: no leader)" if committed == reported_commit else ""
                print(f"{stamp(now)}  commit index {committed:5d} "
                      f"(+{committed - reported_commit} in the last second){stalled}")
                reported_commit = committed
            if failed_peer is not None and now >= reconnect_at:
                cfg.connect(failed_peer)
                print(f"{stamp(now)}  reconnect S{failed_peer}")
                failed_peer = None
            if now >= next_failure and failed_peer is None:
                next_failure = now + args.interval
                if leader is not None:
                    cfg.disconnect(leader)
                    failed_peer, failed_at = leader, now
                    reconnect_at = now + args.down
                    print(f"{stamp(now)}  disconnect leader S{leader}")
            time.sleep(POLL_S)
        elapsed = time.monotonic() - start
        rpcs, nbytes = cfg.rpcTotal(), cfg.bytesTotal()
        committed_total = cfg.maxIndex
    finally:
        cfg.cleanup(check=False)

    if elections == 0:
        # What a student's tree shows until 2A works: say why, not "0 elections".
        print(f"\nno leader elected in {round(elapsed, 1):g} s: leader election (2A) is not "
              f"implemented yet, or not working")
    else:
        print(f"\nsummary: {elections} elections in {elapsed:.1f} s")
    if after_failure:
        print(f"  time to elect: median {statistics.median(after_failure) * 1000:.0f} ms, "
              f"max {max(after_failure) * 1000:.0f} ms (over {len(after_failure)})")
    print(f"  RPCs: {rpcs} ({rpcs / elapsed:.1f} a second), {nbytes} bytes")
    if args.commands:
        print(f"  commands: {submitted} submitted, {accepted} taken by a leader, "
              f"{committed_total} committed ({committed_total / elapsed:.1f} a second)")
    return 0 if elections else 1


def main(argv: Optional[Sequence[str]] = None) -> int:
    return run(_parse(argv))


if __name__ == "__main__":
    sys.exit(main())
