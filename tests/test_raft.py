"""The Raft tests, ported line for line from the Go lab's test_test.go.

`pytest -k 2A` runs the leader-election tests, as `go test -run 2A` does.
"""

from __future__ import annotations

import random
import time

from raft.config import RaftElectionTimeout, make_config
from raft.testing import T


def TestInitialElection2A(t: T) -> None:
    servers = 3
    with make_config(t, servers, False) as cfg:
        cfg.begin("Test (2A): initial election")

        # is a leader elected?
        cfg.checkOneLeader()

        # sleep a bit to avoid racing with followers learning of the
        # election, then check that all peers agree on the term.
        time.sleep(0.050)
        term1 = cfg.checkTerms()
        if term1 < 1:
            t.Fatalf("term is %d, but should be at least 1", term1)

        # does the leader+term stay the same if there is no network failure?
        time.sleep(2 * RaftElectionTimeout)
        term2 = cfg.checkTerms()
        if term1 != term2:
            print("warning: term changed even though there were no failures")

        # there should still be a leader.
        cfg.checkOneLeader()

        cfg.end()


def TestReElection2A(t: T) -> None:
    servers = 3
    with make_config(t, servers, False) as cfg:
        cfg.begin("Test (2A): election after network failure")

        leader1 = cfg.checkOneLeader()

        # if the leader disconnects, a new one should be elected.
        cfg.disconnect(leader1)
        cfg.checkOneLeader()

        # if the old leader rejoins, that shouldn't disturb the new leader.
        cfg.connect(leader1)
        leader2 = cfg.checkOneLeader()

        # if there's no quorum, no leader should be elected.
        cfg.disconnect(leader2)
        cfg.disconnect((leader2 + 1) % servers)
        time.sleep(2 * RaftElectionTimeout)
        cfg.checkNoLeader()

        # if a quorum arises, it should elect a leader.
        cfg.connect((leader2 + 1) % servers)
        cfg.checkOneLeader()

        # re-join of last node shouldn't prevent leader from existing.
        cfg.connect(leader2)
        cfg.checkOneLeader()

        cfg.end()


def TestManyElections2A(t: T) -> None:
    servers = 7
    with make_config(t, servers, False) as cfg:
        cfg.begin("Test (2A): multiple elections")

        cfg.checkOneLeader()

        iters = 10
        for _ in range(1, iters):
            # disconnect three nodes
            i1 = random.randrange(servers)
            i2 = random.randrange(servers)
            i3 = random.randrange(servers)
            cfg.disconnect(i1)
            cfg.disconnect(i2)
            cfg.disconnect(i3)

            # either the current leader should still be alive,
            # or the remaining four should elect a new one.
            cfg.checkOneLeader()

            cfg.connect(i1)
            cfg.connect(i2)
            cfg.connect(i3)

        cfg.checkOneLeader()

        cfg.end()
