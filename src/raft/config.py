"""The Raft tester's harness (config.go in the Go lab).

    cfg = make_config(t, n, unreliable, snapshot=False)
                                         -- n peers on a fresh network, all up;
                                            with snapshot, the applier asks each
                                            peer for a snapshot every 10 entries
    with make_config(t, n, False) as cfg: ...   -- and cfg.cleanup() at the end
    cfg.begin(description) ... cfg.end()  -- the "Passed" line with its figures
    cfg.checkOneLeader(), cfg.checkTerms(), cfg.checkNoLeader()
    cfg.connect(i), cfg.disconnect(i), cfg.crash1(i), cfg.start1(i[, applier])
    cfg.one(cmd, expectedServers, retry), cfg.nCommitted(index),
    cfg.wait(index, n, startTerm)
    cfg.rpcCount(i), cfg.rpcTotal(), cfg.bytesTotal(), cfg.LogSize()

Failures call t.Fatalf with the Go tester's messages. A failure seen on a
background thread (an applyCh reader, a fatal labrpc error, a monitor's
violation, an applyCh deadlock) fails the test at the harness's next check.

cfg.record is the run's record (monitors.recording; None when off): labrpc adds
the RPCs, and the harness its own actions ("harness" events: connect,
disconnect, crash, start, Start, apply, check, begin, end, cleanup, ...).
Each peer's applyCh is Go's unbuffered channel (labtest.applych).
"""

from __future__ import annotations

import base64
import functools
import io
import os
import random
import threading
import time
from typing import Any, Callable, Dict, List, Optional

import labgob
import labrpc
import racecheck
from labrpc.record import plain
from monitors import recording
from raft import util
from labtest import lockwatch
from labtest.applych import CLOSED, ApplyChannel
from labtest.peercalls import BoundedPeer, bounded
from raft.persister import MakePersister, Persister
from raft.raft import ApplyMsg, Make, Raft
from labtest.testing import T, TestFailure

# pytest leaves the harness's frames out of a failure's traceback: the test's
# line and the student's code are the news (pytest --fulltrace shows them).
__tracebackhide__ = True

# The tester lets a solution take a whole second to elect a leader, much more
# than the paper's timeouts.
RaftElectionTimeout = 1.0
# The Go tester's real-time limit on one test.
TEST_TIME_LIMIT_S = 120.0

# With snapshots on, the applier asks a peer for a snapshot after every
# this many entries.
SnapShotInterval = 10

Applier = Callable[[int, ApplyChannel], None]


def randstring(n: int) -> str:
    return base64.urlsafe_b64encode(os.urandom(2 * n)).decode()[:n]


def _recorded_check(method: Callable[..., Any]) -> Callable[..., Any]:
    """Add a "check" event (its name, ok, its result or failure) to the record."""
    @functools.wraps(method)
    def check(self: "Config", *args: Any) -> Any:
        if self.record is None:
            return method(self, *args)
        try:
            result = method(self, *args)
        except TestFailure as failure:
            self._note("check", name=method.__name__, ok=False, message=str(failure))
            raise
        self._note("check", name=method.__name__, ok=True, result=plain(result))
        return result
    return check


class Config:
    def __init__(self, t: T, n: int, unreliable: bool, snapshot: bool = False) -> None:
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"make_config: n must be a positive number of peers, got {n!r}")
        self.mu = threading.Lock()
        self.t = t
        self.net = labrpc.MakeNetwork()
        self.n = n
        self.applyErr: List[str] = [""] * n
        self.rafts: List[Optional[Raft]] = [None] * n
        self.connected = [False] * n
        self.saved: List[Optional[Persister]] = [None] * n
        self.endnames: List[Optional[List[str]]] = [None] * n
        self.logs: List[Dict[int, Any]] = [{} for _ in range(n)]
        self.lastApplied = [0] * n
        self.applyChs: List[Optional[ApplyChannel]] = [None] * n
        self.lives = [0] * n  # how many times each peer was started
        self.start = time.monotonic()
        # begin()/end() statistics.
        self.t0 = 0.0
        self.rpcs0 = 0
        self.cmds0 = 0
        self.bytes0 = 0
        self.maxIndex = 0
        self.maxIndex0 = 0
        self._cleaned_up = False
        self.finished = False
        # RAFT_RACE=1: watch every peer for unlocked shared state.
        self.race = racecheck.enabled()
        self.record = recording.new_record(t.name, n, self._violation, t.Log)
        if self.record is not None:
            util.add_record(self.record)  # DPrintf lines go into it too
        self.net.attach_record(self.record)
        if self.record is not None:
            # The monitors' held events are checked before the test looks
            # for failures: at each harness check, and at a Go check's Fatal.
            t.before_reading_failures(self.record.flush)

        self.setunreliable(unreliable)
        self.net.LongDelays(True)
        self._default_applier: Applier = self.applierSnap if snapshot else self.applier
        try:
            for i in range(n):
                self.start1(i, self._default_applier)
            for i in range(n):
                self.connect(i)
        except BaseException:
            # (A Make that failed or never returned:) stop the peers made so far.
            self.cleanup(check=False)
            raise

    def __enter__(self) -> "Config":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.cleanup(check=exc_type is None)

    # --- the record ----------------------------------------------------------------

    def _note(self, action: str, **fields: Any) -> None:
        if self.record is not None:
            self.record.add("harness", action=action, **fields)

    def _violation(self, message: str) -> None:
        """A monitor saw a rule broken (it added the violation event)."""
        self.t.fail_later(message)

    def _deadlock(self, message: str) -> None:
        self._blocked("applyCh deadlock", "the assignment: do not hold the lock while "
                      "sending on applyCh (Go's applyCh is unbuffered)", message)

    def _lock_stuck(self, message: str) -> None:
        """The lock watchdog saw a peer's lock held by a blocked thread (lockwatch)."""
        self._blocked("lock held while blocked", "the assignment: never hold the lock "
                      "across an RPC, a sleep or a put on applyCh", message)

    def _blocked(self, rule: str, source: str, message: str) -> None:
        if self.record is not None:
            self.record.add("violation", rule=rule, source=source,
                            message=message.splitlines()[0], peers=[], term=None)
        self.t.fail_later(message)

    def _recorded_start(self, i: int, rf: Any) -> None:
        """Note each Start() on peer i, whoever calls it (the tests call it too)."""
        start = rf.Start

        def Start(command: Any) -> Any:
            result = start(command)
            if isinstance(result, tuple) and len(result) == 3:
                self._note("Start", peer=i, command=plain(command), index=result[0],
                           term=result[1], is_leader=result[2])
            return result
        try:
            rf.Start = Start
        except AttributeError:
            pass  # a class with __slots__: its Starts go unrecorded

    # --- starting and stopping peers ---------------------------------------------

    def crash1(self, i: int) -> None:
        """Shut peer i down, keeping what it persisted."""
        self.disconnect(i)
        self.net.DeleteServer(i)  # calls to it now fail
        if self.rafts[i] is not None:
            self._note("crash", peer=i, life=self.lives[i])

        with self.mu:
            # A fresh persister, in case the old instance goes on writing;
            # it starts with what was saved, for the next incarnation.
            if self.saved[i] is not None:
                self.saved[i] = self.saved[i].Copy()
            rf = self.rafts[i]
        if rf is not None:
            rf.Kill()
        with self.mu:
            self.rafts[i] = None
            self._stop_reader(i)
            if self.saved[i] is not None:
                state = self.saved[i].ReadRaftState()
                snapshot = self.saved[i].ReadSnapshot()
                self.saved[i] = MakePersister()
                self.saved[i].SaveStateAndSnapshot(state, snapshot)

    def start1(self, i: int, applier: Optional[Applier] = None) -> None:
        """Start, or restart, peer i with what it last persisted.

        applier reads the peer's applyCh (default: the one make_config chose).
        """
        applier = applier or self._default_applier
        self.crash1(i)

        # Fresh outgoing end names, so the old instance can no longer send.
        names = [randstring(20) for _ in range(self.n)]
        self.endnames[i] = names
        self.lives[i] += 1
        life = self.lives[i]
        ends = []
        for j in range(self.n):
            ends.append(self.net.MakeEnd(names[j]))
            self.net.Connect(names[j], j)
            if self.record is not None:
                self.net.label_end(names[j], src=i, src_life=life)

        with self.mu:
            # A fresh persister, so the old instance cannot overwrite the
            # new one's state; it starts with the last persisted state.
            self.lastApplied[i] = 0
            if self.saved[i] is not None:
                self.saved[i] = self.saved[i].Copy()
                snapshot = self.saved[i].ReadSnapshot()
                if snapshot:
                    err = self.ingestSnap(i, snapshot, -1)
                    if err:
                        self.t.Fatal(err)
            else:
                self.saved[i] = MakePersister()
            persister = self.saved[i]
            applyCh = ApplyChannel(i, self._deadlock)
            self.applyChs[i] = applyCh
            snapshot_index = self.lastApplied[i]
        self._note("start", peer=i, life=life, snapshot_index=snapshot_index)

        util.set_thread_peer(i)  # Make's DPrintf lines are peer i's
        try:
            rf = bounded(self.t, f"S{i}'s Make()", self._make, i, ends, persister, applyCh)
        finally:
            util.set_thread_peer(None)
        if self.record is not None and not self.race:
            self._recorded_start(i, rf)
        with self.mu:
            # The tests' and the harness's calls into the peer are bounded.
            self.rafts[i] = BoundedPeer(rf, f"S{i}", self.t)

        threading.Thread(
            target=applier, args=(i, applyCh), name=f"config-applier-S{i}", daemon=True,
        ).start()

        srv = labrpc.MakeServer()
        srv.labels = {"peer": i, "dst_life": life}
        srv.AddService(labrpc.MakeService(rf))
        self.net.AddServer(i, srv)

    def _make(self, i: int, ends: List[Any], persister: Persister,
              applyCh: ApplyChannel) -> Any:
        """Make(ends, i, persister, applyCh), its locks watched (lockwatch);
        with RAFT_RACE=1, its state too (racecheck)."""
        call = None
        if self.race:
            call = functools.partial(racecheck.make_watched, report=self.t.fail_later)
        return lockwatch.build_peer(Make, (ends, i, persister, applyCh), f"S{i}",
                                    self._lock_stuck, call,
                                    peer_labels=[f"S{j}" for j in range(self.n)])

    def checkLogs(self, i: int, m: ApplyMsg) -> "tuple[str, bool]":
        """Record what peer i applied; compare with every peer. self.mu held."""
        err_msg = ""
        for j, log in enumerate(self.logs):
            if m.CommandIndex in log and log[m.CommandIndex] != m.Command:
                # Some server already committed another value here.
                err_msg = (
                    f"commit index={m.CommandIndex} server={i} {m.Command} "
                    f"!= server={j} {log[m.CommandIndex]}"
                )
        prevok = (m.CommandIndex - 1) in self.logs[i]
        self.logs[i][m.CommandIndex] = m.Command
        self.maxIndex = max(self.maxIndex, m.CommandIndex)
        return err_msg, prevok

    def _messages(self, i: int, applyCh: ApplyChannel) -> Any:
        """What peer i puts on applyCh, until it is crashed."""
        life = self.lives[i]
        while True:
            m = applyCh.get()
            if m is CLOSED:
                return
            if not isinstance(m, ApplyMsg):
                self._apply_error(
                    i, f"server {i} put a {type(m).__name__} on applyCh, not an ApplyMsg"
                )
                continue
            if self.record is not None:
                if m.CommandValid:
                    self._note("apply", peer=i, life=life, index=m.CommandIndex,
                               command=plain(m.Command))
                elif m.SnapshotValid:
                    self._note("apply", peer=i, life=life, snapshot_index=m.SnapshotIndex)
            yield m

    def applier(self, i: int, applyCh: ApplyChannel) -> None:
        """Check that what peer i applies matches every other peer's log."""
        for m in self._messages(i, applyCh):
            if not m.CommandValid:
                continue  # other kinds of ApplyMsg
            with self.mu:
                err_msg, prevok = self.checkLogs(i, m)
            if m.CommandIndex > 1 and not prevok:
                err_msg = f"server {i} apply out of order {m.CommandIndex}"
            if err_msg:
                # Keep reading, so that the peer never blocks on applyCh.
                self._apply_error(i, err_msg)

    def ingestSnap(self, i: int, snapshot: bytes, index: int) -> str:
        """Replace peer i's record of applied entries with a snapshot's."""
        if not snapshot:
            return "nil snapshot"
        d = labgob.NewDecoder(io.BytesIO(snapshot))
        try:
            lastIncludedIndex = d.Decode()
            xlog = d.Decode()
        except Exception:
            return "snapshot Decode() error"
        if index != -1 and index != lastIncludedIndex:
            return f"server {i} snapshot doesn't match m.SnapshotIndex"
        self.logs[i] = {j: command for j, command in enumerate(xlog)}
        self.lastApplied[i] = lastIncludedIndex
        return ""

    def applierSnap(self, i: int, applyCh: ApplyChannel) -> None:
        """applier's checks, and a snapshot every SnapShotInterval entries."""
        with self.mu:
            rf = self.rafts[i]
            life = self.lives[i]
        for m in self._messages(i, applyCh):
            err_msg = ""
            if m.SnapshotValid:
                with self.mu:
                    if self.lives[i] != life:
                        continue  # (see below)
                    err_msg = self.ingestSnap(i, m.Snapshot, m.SnapshotIndex)
            elif m.CommandValid:
                with self.mu:
                    if self.lives[i] != life:
                        # Taken from this incarnation just before its crash, and
                        # judged after the restart reset lastApplied: not the new
                        # incarnation's apply. (Go's applierSnap judges it against
                        # the new lastApplied, a rare false "out of order".)
                        continue
                    if m.CommandIndex != self.lastApplied[i] + 1:
                        err_msg = (
                            f"server {i} apply out of order, expected index "
                            f"{self.lastApplied[i] + 1}, got {m.CommandIndex}"
                        )
                    if not err_msg:
                        err_msg, prevok = self.checkLogs(i, m)
                        if m.CommandIndex > 1 and not prevok:
                            err_msg = f"server {i} apply out of order {m.CommandIndex}"
                    self.lastApplied[i] = m.CommandIndex
                if (m.CommandIndex + 1) % SnapShotInterval == 0:
                    w = io.BytesIO()
                    e = labgob.NewEncoder(w)
                    e.Encode(m.CommandIndex)
                    with self.mu:
                        xlog = [self.logs[i].get(j) for j in range(m.CommandIndex + 1)]
                    e.Encode(xlog)
                    try:
                        with applyCh.reader_calls(f"Snapshot({m.CommandIndex}, ...)"):
                            rf.Snapshot(m.CommandIndex, w.getvalue())
                    except TestFailure as stuck:  # (a bounded call that did not return)
                        self.t.fail_later(str(stuck))
                        return
            if err_msg:
                self._apply_error(i, err_msg)

    def _stop_reader(self, i: int) -> None:
        """End the thread reading peer i's applyCh (its peer is gone)."""
        if self.applyChs[i] is not None:
            self.applyChs[i].close()
            self.applyChs[i] = None

    def _apply_error(self, i: int, err_msg: str) -> None:
        self.applyErr[i] = err_msg
        self.t.fail_later(f"apply error: {err_msg}")

    def cleanup(self, check: bool = True) -> None:
        """Kill every peer and shut the network down; check the time limit."""
        if self._cleaned_up:
            return
        self._cleaned_up = True
        self.finished = True
        self._note("cleanup")
        stuck: Optional[TestFailure] = None
        for i in range(self.n):
            if self.rafts[i] is not None:
                try:
                    self.rafts[i].Kill()
                except TestFailure as failure:
                    # Kill waited on a lock held across a Call, say: fail the
                    # pending calls, which may free it, and try once more.
                    stuck = stuck or failure
                    self.net.Cleanup()
                    try:
                        self.rafts[i].Kill()
                    except TestFailure:
                        pass
            self._stop_reader(i)
        self.net.Cleanup()
        if self.record is not None:
            util.remove_record(self.record)  # its DPrintf lines end with the cluster
        if check:
            self._check_failures()
            if stuck is not None:
                raise stuck
            self.checkTimeout()

    def checkTimeout(self) -> None:
        # The Go tester's two-minute real-time limit on each test.
        if not self.t.Failed() and time.monotonic() - self.start > TEST_TIME_LIMIT_S:
            self.t.Fatal("test took longer than 120 seconds")

    def _check_failures(self) -> None:
        """Fail now for anything that went wrong on a background thread."""
        fatal = self.net.fatal_error()
        if fatal is not None:
            self.t.Fatal(fatal)
        self.t.check_later_failures()

    # --- the network -------------------------------------------------------------

    def connect(self, i: int) -> None:
        """Attach peer i to the network."""
        self._note("connect", peer=i)
        self.connected[i] = True
        for j in range(self.n):
            if self.connected[j]:
                self.net.Enable(self.endnames[i][j], True)  # outgoing
                self.net.Enable(self.endnames[j][i], True)  # incoming

    def disconnect(self, i: int) -> None:
        """Detach peer i from the network."""
        self._note("disconnect", peer=i)
        self.connected[i] = False
        for j in range(self.n):
            if self.endnames[i] is not None:
                self.net.Enable(self.endnames[i][j], False)  # outgoing
            if self.endnames[j] is not None:
                self.net.Enable(self.endnames[j][i], False)  # incoming

    def rpcCount(self, server: int) -> int:
        return self.net.GetCount(server)

    def rpcTotal(self) -> int:
        return self.net.GetTotalCount()

    def bytesTotal(self) -> int:
        return self.net.GetTotalBytes()

    def setunreliable(self, unrel: bool) -> None:
        self._note("unreliable", on=bool(unrel))
        self.net.Reliable(not unrel)

    def setlongreordering(self, longrel: bool) -> None:
        self._note("longreordering", on=bool(longrel))
        self.net.LongReordering(longrel)

    # --- checks --------------------------------------------------------------------

    @_recorded_check
    def checkOneLeader(self) -> int:
        """The one leader of the newest term, retrying while elections settle."""
        for _ in range(10):
            time.sleep((450 + random.randrange(100)) / 1000)
            self._check_failures()
            leaders: Dict[int, List[int]] = {}
            for i in range(self.n):
                if self.connected[i]:
                    term, leader = self.rafts[i].GetState()
                    if leader:
                        leaders.setdefault(term, []).append(i)
            for term, who in leaders.items():
                if len(who) > 1:
                    self.t.Fatalf("term %d has %d (>1) leaders", term, len(who))
            if leaders:
                return leaders[max(leaders)][0]
        self.t.Fatalf("expected one leader, got none")
        return -1

    @_recorded_check
    def checkTerms(self) -> int:
        """The term every connected peer agrees on."""
        term = -1
        for i in range(self.n):
            if self.connected[i]:
                xterm, _ = self.rafts[i].GetState()
                if term == -1:
                    term = xterm
                elif term != xterm:
                    self.t.Fatalf("servers disagree on term")
        return term

    @_recorded_check
    def checkNoLeader(self) -> None:
        for i in range(self.n):
            if self.connected[i]:
                _, is_leader = self.rafts[i].GetState()
                if is_leader:
                    self.t.Fatalf("expected no leader, but %d claims to be leader", i)

    def nCommitted(self, index: int) -> "tuple[int, Any]":
        """How many peers have committed index, and what they committed."""
        count = 0
        cmd = None
        for i in range(self.n):
            if self.applyErr[i]:
                self.t.Fatal(self.applyErr[i])
            with self.mu:
                ok = index in self.logs[i]
                cmd1 = self.logs[i].get(index)
            if ok:
                if count > 0 and cmd != cmd1:
                    self.t.Fatalf(
                        "committed values do not match: index %d, %s, %s", index, cmd, cmd1
                    )
                count += 1
                cmd = cmd1
        return count, cmd

    @_recorded_check
    def wait(self, index: int, n: int, startTerm: int) -> Any:
        """Wait for at least n peers to commit index, but not forever.

        Returns -1 if some peer moved past startTerm (then no one can promise
        the entry will commit).
        """
        to = 0.010
        for _ in range(30):
            nd, _ = self.nCommitted(index)
            if nd >= n:
                break
            time.sleep(to)
            if to < 1.0:
                to *= 2
            if startTerm > -1:
                for rf in self.rafts:
                    if rf is not None and rf.GetState()[0] > startTerm:
                        return -1
        nd, cmd = self.nCommitted(index)
        if nd < n:
            self.t.Fatalf("only %d decided for index %d; wanted %d", nd, index, n)
        return cmd

    @_recorded_check
    def one(self, cmd: Any, expectedServers: int, retry: bool) -> int:
        """A complete agreement on cmd; returns its index.

        Tries Start on each connected peer until one accepts, then waits for
        expectedServers peers to commit. With retry, submits again if the
        leader failed before committing; gives up after about 10 s.
        """
        t0 = time.monotonic()
        starts = 0
        while time.monotonic() - t0 < 10 and not self.checkFinished():
            self._check_failures()
            index = -1
            for _ in range(self.n):
                starts = (starts + 1) % self.n
                with self.mu:
                    rf = self.rafts[starts] if self.connected[starts] else None
                if rf is not None:
                    index1, _, ok = rf.Start(cmd)
                    if ok:
                        index = index1
                        break
            if index != -1:
                # Somebody claimed to lead and took the command: wait a while.
                t1 = time.monotonic()
                while time.monotonic() - t1 < 2:
                    nd, cmd1 = self.nCommitted(index)
                    if nd > 0 and nd >= expectedServers and cmd1 == cmd:
                        return index
                    time.sleep(0.020)
                if not retry:
                    self.t.Fatalf("one(%s) failed to reach agreement", cmd)
            else:
                time.sleep(0.050)
        if not self.checkFinished():
            self.t.Fatalf("one(%s) failed to reach agreement", cmd)
        return -1

    def checkFinished(self) -> bool:
        """Whether cleanup() has begun (clients of a finished test stop)."""
        return self.finished

    def LogSize(self) -> int:
        """The largest Raft state any peer has persisted, in bytes."""
        return max(saved.RaftStateSize() for saved in self.saved if saved is not None)

    # --- begin/end --------------------------------------------------------------

    def begin(self, description: str) -> None:
        self._note("begin", description=description)
        self.t.Log(f"{description} ...")
        self.t0 = time.monotonic()
        self.rpcs0 = self.rpcTotal()
        self.bytes0 = self.bytesTotal()
        self.cmds0 = 0
        self.maxIndex0 = self.maxIndex

    def end(self) -> None:
        """Print the Passed line: seconds, peers, RPCs, bytes, agreements."""
        self._note("end")
        self._check_failures()
        self.checkTimeout()
        if not self.t.Failed():
            with self.mu:
                elapsed = time.monotonic() - self.t0
                nrpc = self.rpcTotal() - self.rpcs0
                nbytes = self.bytesTotal() - self.bytes0
                ncmds = self.maxIndex - self.maxIndex0
            self.t.Log(
                "  ... Passed --  %4.1f  %d %4d %7d %4d" % (elapsed, self.n, nrpc, nbytes, ncmds)
            )


def make_config(t: T, n: int, unreliable: bool, snapshot: bool = False) -> Config:
    return Config(t, n, unreliable, snapshot)
