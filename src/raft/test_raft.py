"""The Raft tests, ported line for line from the Go lab's test_test.go.

`pytest -k 2A` runs the leader-election tests, as `go test -run 2A` does;
likewise 2B (agreement), 2C (persistence) and 2D (snapshots).
"""

from __future__ import annotations

import random
import threading
import time
from typing import List, Optional

from raft.config import RaftElectionTimeout, SnapShotInterval, make_config, randstring
from labtest.testing import T


def rand_int() -> int:
    """Go's rand.Int(): a non-negative 63-bit integer."""
    return random.getrandbits(63)


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


def TestBasicAgree2B(t: T) -> None:
    servers = 3
    with make_config(t, servers, False) as cfg:
        cfg.begin("Test (2B): basic agreement")

        iters = 3
        for index in range(1, iters + 1):
            nd, _ = cfg.nCommitted(index)
            if nd > 0:
                t.Fatalf("some have committed before Start()")

            xindex = cfg.one(index * 100, servers, False)
            if xindex != index:
                t.Fatalf("got index %d but expected %d", xindex, index)

        cfg.end()


def TestRPCBytes2B(t: T) -> None:
    """Check, by counting RPC bytes, that each command goes to each peer once."""
    servers = 3
    with make_config(t, servers, False) as cfg:
        cfg.begin("Test (2B): RPC byte count")

        cfg.one(99, servers, False)
        bytes0 = cfg.bytesTotal()

        iters = 10
        sent = 0
        for index in range(2, iters + 2):
            cmd = randstring(5000)
            xindex = cfg.one(cmd, servers, False)
            if xindex != index:
                t.Fatalf("got index %d but expected %d", xindex, index)
            sent += len(cmd)

        bytes1 = cfg.bytesTotal()
        got = bytes1 - bytes0
        expected = servers * sent
        if got > expected + 50000:
            t.Fatalf("too many RPC bytes; got %d, expected %d", got, expected)

        cfg.end()


def TestFailAgree2B(t: T) -> None:
    servers = 3
    with make_config(t, servers, False) as cfg:
        cfg.begin("Test (2B): agreement despite follower disconnection")

        cfg.one(101, servers, False)

        # disconnect one follower from the network.
        leader = cfg.checkOneLeader()
        cfg.disconnect((leader + 1) % servers)

        # the leader and remaining follower should be
        # able to agree despite the disconnected follower.
        cfg.one(102, servers - 1, False)
        cfg.one(103, servers - 1, False)
        time.sleep(RaftElectionTimeout)
        cfg.one(104, servers - 1, False)
        cfg.one(105, servers - 1, False)

        # re-connect
        cfg.connect((leader + 1) % servers)

        # the full set of servers should preserve
        # previous agreements, and be able to agree
        # on new commands.
        cfg.one(106, servers, True)
        time.sleep(RaftElectionTimeout)
        cfg.one(107, servers, True)

        cfg.end()


def TestFailNoAgree2B(t: T) -> None:
    servers = 5
    with make_config(t, servers, False) as cfg:
        cfg.begin("Test (2B): no agreement if too many followers disconnect")

        cfg.one(10, servers, False)

        # 3 of 5 followers disconnect
        leader = cfg.checkOneLeader()
        cfg.disconnect((leader + 1) % servers)
        cfg.disconnect((leader + 2) % servers)
        cfg.disconnect((leader + 3) % servers)

        index, _, ok = cfg.rafts[leader].Start(20)
        if not ok:
            t.Fatalf("leader rejected Start()")
        if index != 2:
            t.Fatalf("expected index 2, got %d", index)

        time.sleep(2 * RaftElectionTimeout)

        n, _ = cfg.nCommitted(index)
        if n > 0:
            t.Fatalf("%d committed but no majority", n)

        # repair
        cfg.connect((leader + 1) % servers)
        cfg.connect((leader + 2) % servers)
        cfg.connect((leader + 3) % servers)

        # the disconnected majority may have chosen a leader from
        # among their own ranks, forgetting index 2.
        leader2 = cfg.checkOneLeader()
        index2, _, ok2 = cfg.rafts[leader2].Start(30)
        if not ok2:
            t.Fatalf("leader2 rejected Start()")
        if index2 < 2 or index2 > 3:
            t.Fatalf("unexpected index %d", index2)

        cfg.one(1000, servers, True)

        cfg.end()


def TestConcurrentStarts2B(t: T) -> None:
    servers = 3
    with make_config(t, servers, False) as cfg:
        cfg.begin("Test (2B): concurrent Start()s")

        success = False
        for attempt in range(5):
            if attempt > 0:
                # give solution some time to settle
                time.sleep(3)

            leader = cfg.checkOneLeader()
            _, term, ok = cfg.rafts[leader].Start(1)
            if not ok:
                # leader moved on really quickly
                continue

            iters = 5
            is_: List[int] = []
            is_mu = threading.Lock()

            def start(i: int) -> None:
                index, term1, ok = cfg.rafts[leader].Start(100 + i)
                if term1 != term or not ok:
                    return
                with is_mu:
                    is_.append(index)

            for th in [t.go(start, ii) for ii in range(iters)]:
                th.join()

            if any(cfg.rafts[j].GetState()[0] != term for j in range(servers)):
                # term changed -- can't expect low RPC counts
                continue

            failed = False
            cmds = []
            for index in is_:
                cmd = cfg.wait(index, servers, term)
                if not isinstance(cmd, int):
                    t.Fatalf("value %s is not an int", cmd)
                if cmd == -1:
                    # peers have moved on to later terms, so we can't
                    # expect all Start()s to have succeeded
                    failed = True
                    break
                cmds.append(cmd)

            if failed:
                continue

            for ii in range(iters):
                x = 100 + ii
                if x not in cmds:
                    t.Fatalf("cmd %d missing in %s", x, cmds)

            success = True
            break

        if not success:
            t.Fatalf("term changed too often")

        cfg.end()


def TestRejoin2B(t: T) -> None:
    servers = 3
    with make_config(t, servers, False) as cfg:
        cfg.begin("Test (2B): rejoin of partitioned leader")

        cfg.one(101, servers, True)

        # leader network failure
        leader1 = cfg.checkOneLeader()
        cfg.disconnect(leader1)

        # make old leader try to agree on some entries
        cfg.rafts[leader1].Start(102)
        cfg.rafts[leader1].Start(103)
        cfg.rafts[leader1].Start(104)

        # new leader commits, also for index=2
        cfg.one(103, 2, True)

        # new leader network failure
        leader2 = cfg.checkOneLeader()
        cfg.disconnect(leader2)

        # old leader connected again
        cfg.connect(leader1)

        cfg.one(104, 2, True)

        # all together now
        cfg.connect(leader2)

        cfg.one(105, servers, True)

        cfg.end()


def TestBackup2B(t: T) -> None:
    servers = 5
    with make_config(t, servers, False) as cfg:
        cfg.begin("Test (2B): leader backs up quickly over incorrect follower logs")

        cfg.one(rand_int(), servers, True)

        # put leader and one follower in a partition
        leader1 = cfg.checkOneLeader()
        cfg.disconnect((leader1 + 2) % servers)
        cfg.disconnect((leader1 + 3) % servers)
        cfg.disconnect((leader1 + 4) % servers)

        # submit lots of commands that won't commit
        for _ in range(50):
            cfg.rafts[leader1].Start(rand_int())

        time.sleep(RaftElectionTimeout / 2)

        cfg.disconnect((leader1 + 0) % servers)
        cfg.disconnect((leader1 + 1) % servers)

        # allow other partition to recover
        cfg.connect((leader1 + 2) % servers)
        cfg.connect((leader1 + 3) % servers)
        cfg.connect((leader1 + 4) % servers)

        # lots of successful commands to new group.
        for _ in range(50):
            cfg.one(rand_int(), 3, True)

        # now another partitioned leader and one follower
        leader2 = cfg.checkOneLeader()
        other = (leader1 + 2) % servers
        if leader2 == other:
            other = (leader2 + 1) % servers
        cfg.disconnect(other)

        # lots more commands that won't commit
        for _ in range(50):
            cfg.rafts[leader2].Start(rand_int())

        time.sleep(RaftElectionTimeout / 2)

        # bring original leader back to life,
        for i in range(servers):
            cfg.disconnect(i)
        cfg.connect((leader1 + 0) % servers)
        cfg.connect((leader1 + 1) % servers)
        cfg.connect(other)

        # lots of successful commands to new group.
        for _ in range(50):
            cfg.one(rand_int(), 3, True)

        # now everyone
        for i in range(servers):
            cfg.connect(i)
        cfg.one(rand_int(), servers, True)

        cfg.end()


def TestCount2B(t: T) -> None:
    servers = 3
    with make_config(t, servers, False) as cfg:
        cfg.begin("Test (2B): RPC counts aren't too high")

        def rpcs() -> int:
            return sum(cfg.rpcCount(j) for j in range(servers))

        leader = cfg.checkOneLeader()

        total1 = rpcs()

        if total1 > 30 or total1 < 1:
            t.Fatalf("too many or few RPCs (%d) to elect initial leader", total1)

        total2 = 0
        success = False
        for attempt in range(5):
            if attempt > 0:
                # give solution some time to settle
                time.sleep(3)

            leader = cfg.checkOneLeader()
            total1 = rpcs()

            iters = 10
            starti, term, ok = cfg.rafts[leader].Start(1)
            if not ok:
                # leader moved on really quickly
                continue
            cmds = []
            moved_on = False
            for i in range(1, iters + 2):
                x = random.getrandbits(31)
                cmds.append(x)
                index1, term1, ok = cfg.rafts[leader].Start(x)
                if term1 != term or not ok:
                    # term changed while starting, or no longer the leader
                    moved_on = True
                    break
                if starti + i != index1:
                    t.Fatalf("Start() failed")
            if moved_on:
                continue

            for i in range(1, iters + 1):
                cmd = cfg.wait(starti + i, servers, term)
                if cmd != cmds[i - 1]:
                    if cmd == -1:
                        # term changed -- try again
                        moved_on = True
                        break
                    t.Fatalf("wrong value %s committed for index %d; expected %s",
                             cmd, starti + i, cmds)
            if moved_on:
                continue

            failed = False
            total2 = 0
            for j in range(servers):
                if cfg.rafts[j].GetState()[0] != term:
                    # term changed -- can't expect low RPC counts;
                    # need to keep going to update total2
                    failed = True
                total2 += cfg.rpcCount(j)

            if failed:
                continue

            if total2 - total1 > (iters + 1 + 3) * 3:
                t.Fatalf("too many RPCs (%d) for %d entries", total2 - total1, iters)

            success = True
            break

        if not success:
            t.Fatalf("term changed too often")

        time.sleep(RaftElectionTimeout)

        total3 = sum(cfg.rpcCount(j) for j in range(servers))

        if total3 - total2 > 3 * 20:
            t.Fatalf("too many RPCs (%d) for 1 second of idleness", total3 - total2)

        cfg.end()


def TestPersist12C(t: T) -> None:
    servers = 3
    with make_config(t, servers, False) as cfg:
        cfg.begin("Test (2C): basic persistence")

        cfg.one(11, servers, True)

        # crash and re-start all
        for i in range(servers):
            cfg.start1(i, cfg.applier)
        for i in range(servers):
            cfg.disconnect(i)
            cfg.connect(i)

        cfg.one(12, servers, True)

        leader1 = cfg.checkOneLeader()
        cfg.disconnect(leader1)
        cfg.start1(leader1, cfg.applier)
        cfg.connect(leader1)

        cfg.one(13, servers, True)

        leader2 = cfg.checkOneLeader()
        cfg.disconnect(leader2)
        cfg.one(14, servers - 1, True)
        cfg.start1(leader2, cfg.applier)
        cfg.connect(leader2)

        cfg.wait(4, servers, -1)  # wait for leader2 to join before killing i3

        i3 = (cfg.checkOneLeader() + 1) % servers
        cfg.disconnect(i3)
        cfg.one(15, servers - 1, True)
        cfg.start1(i3, cfg.applier)
        cfg.connect(i3)

        cfg.one(16, servers, True)

        cfg.end()


def TestPersist22C(t: T) -> None:
    servers = 5
    with make_config(t, servers, False) as cfg:
        cfg.begin("Test (2C): more persistence")

        index = 1
        for _ in range(5):
            cfg.one(10 + index, servers, True)
            index += 1

            leader1 = cfg.checkOneLeader()

            cfg.disconnect((leader1 + 1) % servers)
            cfg.disconnect((leader1 + 2) % servers)

            cfg.one(10 + index, servers - 2, True)
            index += 1

            cfg.disconnect((leader1 + 0) % servers)
            cfg.disconnect((leader1 + 3) % servers)
            cfg.disconnect((leader1 + 4) % servers)

            cfg.start1((leader1 + 1) % servers, cfg.applier)
            cfg.start1((leader1 + 2) % servers, cfg.applier)
            cfg.connect((leader1 + 1) % servers)
            cfg.connect((leader1 + 2) % servers)

            time.sleep(RaftElectionTimeout)

            cfg.start1((leader1 + 3) % servers, cfg.applier)
            cfg.connect((leader1 + 3) % servers)

            cfg.one(10 + index, servers - 2, True)
            index += 1

            cfg.connect((leader1 + 4) % servers)
            cfg.connect((leader1 + 0) % servers)

        cfg.one(1000, servers, True)

        cfg.end()


def TestPersist32C(t: T) -> None:
    servers = 3
    with make_config(t, servers, False) as cfg:
        cfg.begin("Test (2C): partitioned leader and one follower crash, leader restarts")

        cfg.one(101, 3, True)

        leader = cfg.checkOneLeader()
        cfg.disconnect((leader + 2) % servers)

        cfg.one(102, 2, True)

        cfg.crash1((leader + 0) % servers)
        cfg.crash1((leader + 1) % servers)
        cfg.connect((leader + 2) % servers)
        cfg.start1((leader + 0) % servers, cfg.applier)
        cfg.connect((leader + 0) % servers)

        cfg.one(103, 2, True)

        cfg.start1((leader + 1) % servers, cfg.applier)
        cfg.connect((leader + 1) % servers)

        cfg.one(104, servers, True)

        cfg.end()


def TestFigure82C(t: T) -> None:
    """The scenarios of Figure 8 of the extended Raft paper.

    Each iteration asks a leader, if there is one, to insert a command in
    the log. The leader then fails quickly with high probability (perhaps
    without committing the command), or crashes after a while with low
    probability (most likely committing it). When too few peers are up for
    a majority, one is restarted. A new term's leader may try to finish
    replicating entries that were not committed.
    """
    servers = 5
    with make_config(t, servers, False) as cfg:
        cfg.begin("Test (2C): Figure 8")

        cfg.one(rand_int(), 1, True)

        nup = servers
        for _ in range(1000):
            leader = -1
            for i in range(servers):
                if cfg.rafts[i] is not None:
                    _, _, ok = cfg.rafts[i].Start(rand_int())
                    if ok:
                        leader = i

            if random.randrange(1000) < 100:
                ms = random.randrange(int(RaftElectionTimeout * 1000) // 2)
                time.sleep(ms / 1000)
            else:
                ms = random.randrange(13)
                time.sleep(ms / 1000)

            if leader != -1:
                cfg.crash1(leader)
                nup -= 1

            if nup < 3:
                s = random.randrange(servers)
                if cfg.rafts[s] is None:
                    cfg.start1(s, cfg.applier)
                    cfg.connect(s)
                    nup += 1

        for i in range(servers):
            if cfg.rafts[i] is None:
                cfg.start1(i, cfg.applier)
                cfg.connect(i)

        cfg.one(rand_int(), servers, True)

        cfg.end()


def TestUnreliableAgree2C(t: T) -> None:
    servers = 5
    with make_config(t, servers, True) as cfg:
        cfg.begin("Test (2C): unreliable agreement")

        wg = []
        for iters in range(1, 50):
            for j in range(4):
                wg.append(t.go(cfg.one, (100 * iters) + j, 1, True))
            cfg.one(iters, 1, True)

        cfg.setunreliable(False)

        for th in wg:
            th.join()

        cfg.one(100, servers, True)

        cfg.end()


def TestFigure8Unreliable2C(t: T) -> None:
    servers = 5
    with make_config(t, servers, True) as cfg:
        cfg.begin("Test (2C): Figure 8 (unreliable)")

        cfg.one(random.randrange(10000), 1, True)

        nup = servers
        for iters in range(1000):
            if iters == 200:
                cfg.setlongreordering(True)
            leader = -1
            for i in range(servers):
                _, _, ok = cfg.rafts[i].Start(random.randrange(10000))
                if ok and cfg.connected[i]:
                    leader = i

            if random.randrange(1000) < 100:
                ms = random.randrange(int(RaftElectionTimeout * 1000) // 2)
                time.sleep(ms / 1000)
            else:
                ms = random.randrange(13)
                time.sleep(ms / 1000)

            if leader != -1 and random.randrange(1000) < int(RaftElectionTimeout * 1000) // 2:
                cfg.disconnect(leader)
                nup -= 1

            if nup < 3:
                s = random.randrange(servers)
                if not cfg.connected[s]:
                    cfg.connect(s)
                    nup += 1

        for i in range(servers):
            if not cfg.connected[i]:
                cfg.connect(i)

        cfg.one(random.randrange(10000), servers, True)

        cfg.end()


def internalChurn(t: T, unreliable: bool) -> None:
    servers = 5
    with make_config(t, servers, unreliable) as cfg:
        if unreliable:
            cfg.begin("Test (2C): unreliable churn")
        else:
            cfg.begin("Test (2C): churn")

        stop = threading.Event()
        results: List[Optional[List[int]]] = []

        # create concurrent clients
        def cfn(me: int) -> None:
            values: List[int] = []
            ret: Optional[List[int]] = None
            try:
                while not stop.is_set():
                    x = rand_int()
                    index = -1
                    ok = False
                    for i in range(servers):
                        # try them all, maybe one of them is a leader
                        with cfg.mu:
                            rf = cfg.rafts[i]
                        if rf is not None:
                            index1, _, ok1 = rf.Start(x)
                            if ok1:
                                ok = ok1
                                index = index1
                    if ok:
                        # maybe leader will commit our value, maybe not.
                        # but don't wait forever.
                        for to in (10, 20, 50, 100, 200):
                            nd, cmd = cfg.nCommitted(index)
                            if nd > 0:
                                if not isinstance(cmd, int):
                                    cfg.t.Fatalf("wrong command type")
                                if cmd == x:
                                    values.append(x)
                                break
                            time.sleep(to / 1000)
                    else:
                        time.sleep((79 + me * 17) / 1000)
                ret = values
            finally:
                results.append(ret)

        ncli = 3
        clients = [t.go(cfn, i) for i in range(ncli)]

        for _ in range(20):
            if random.randrange(1000) < 200:
                i = random.randrange(servers)
                cfg.disconnect(i)

            if random.randrange(1000) < 500:
                i = random.randrange(servers)
                if cfg.rafts[i] is None:
                    cfg.start1(i, cfg.applier)
                cfg.connect(i)

            if random.randrange(1000) < 200:
                i = random.randrange(servers)
                if cfg.rafts[i] is not None:
                    cfg.crash1(i)

            # Make crash/restart infrequent enough that the peers can often
            # keep up, but not so infrequent that everything has settled
            # down from one change to the next. Pick a value smaller than
            # the election timeout, but not hugely smaller.
            time.sleep((RaftElectionTimeout * 7) / 10)

        time.sleep(RaftElectionTimeout)
        cfg.setunreliable(False)
        for i in range(servers):
            if cfg.rafts[i] is None:
                cfg.start1(i, cfg.applier)
            cfg.connect(i)

        stop.set()

        values: List[int] = []
        for client in clients:
            client.join()
        for vv in results:
            if vv is None:
                t.Fatal("client failed")
            values.extend(vv)

        time.sleep(RaftElectionTimeout)

        lastIndex = cfg.one(rand_int(), servers, True)

        really = []
        for index in range(1, lastIndex + 1):
            v = cfg.wait(index, servers, -1)
            if not isinstance(v, int):
                t.Fatalf("not an int")
            really.append(v)

        really_set = set(really)
        for v1 in values:
            if v1 not in really_set:
                cfg.t.Fatalf("didn't find a value")

        cfg.end()


def TestReliableChurn2C(t: T) -> None:
    internalChurn(t, False)


def TestUnreliableChurn2C(t: T) -> None:
    internalChurn(t, True)


MAXLOGSIZE = 2000


def snapcommon(t: T, name: str, disconnect: bool, reliable: bool, crash: bool) -> None:
    iters = 30
    servers = 3
    with make_config(t, servers, not reliable, True) as cfg:
        cfg.begin(name)

        cfg.one(rand_int(), servers, True)
        leader1 = cfg.checkOneLeader()

        for i in range(iters):
            victim = (leader1 + 1) % servers
            sender = leader1
            if i % 3 == 1:
                sender = (leader1 + 1) % servers
                victim = leader1

            if disconnect:
                cfg.disconnect(victim)
                cfg.one(rand_int(), servers - 1, True)
            if crash:
                cfg.crash1(victim)
                cfg.one(rand_int(), servers - 1, True)

            # perhaps send enough to get a snapshot
            for _ in range(SnapShotInterval + 1):
                cfg.rafts[sender].Start(rand_int())
            # let applier threads catch up with the Start()'s
            cfg.one(rand_int(), servers - 1, True)

            if cfg.LogSize() >= MAXLOGSIZE:
                cfg.t.Fatalf("Log size too large")
            if disconnect:
                # reconnect a follower, who maybe behind and
                # needs to receive a snapshot to catch up.
                cfg.connect(victim)
                cfg.one(rand_int(), servers, True)
                leader1 = cfg.checkOneLeader()
            if crash:
                cfg.start1(victim, cfg.applierSnap)
                cfg.connect(victim)
                cfg.one(rand_int(), servers, True)
                leader1 = cfg.checkOneLeader()

        cfg.end()


def TestSnapshotBasic2D(t: T) -> None:
    snapcommon(t, "Test (2D): snapshots basic", False, True, False)


def TestSnapshotInstall2D(t: T) -> None:
    snapcommon(t, "Test (2D): install snapshots (disconnect)", True, True, False)


def TestSnapshotInstallUnreliable2D(t: T) -> None:
    snapcommon(t, "Test (2D): install snapshots (disconnect+unreliable)", True, False, False)


def TestSnapshotInstallCrash2D(t: T) -> None:
    snapcommon(t, "Test (2D): install snapshots (crash)", False, True, True)


def TestSnapshotInstallUnCrash2D(t: T) -> None:
    snapcommon(t, "Test (2D): install snapshots (unreliable+crash)", False, False, True)


def TestSnapshotAllCrash2D(t: T) -> None:
    """Do the servers persist their snapshots, and restart from a snapshot
    and the tail of the log?"""
    servers = 3
    iters = 5
    with make_config(t, servers, False, True) as cfg:
        cfg.begin("Test (2D): crash and restart all servers")

        cfg.one(rand_int(), servers, True)

        for _ in range(iters):
            # perhaps enough to get a snapshot
            nn = (SnapShotInterval // 2) + random.randrange(SnapShotInterval)
            for _ in range(nn):
                cfg.one(rand_int(), servers, True)

            index1 = cfg.one(rand_int(), servers, True)

            # crash all
            for i in range(servers):
                cfg.crash1(i)

            # revive all
            for i in range(servers):
                cfg.start1(i, cfg.applierSnap)
                cfg.connect(i)

            index2 = cfg.one(rand_int(), servers, True)
            if index2 < index1 + 1:
                t.Fatalf("index decreased from %d to %d", index1, index2)

        cfg.end()
