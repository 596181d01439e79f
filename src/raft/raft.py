"""Raft, as the lab's handout describes its interface.

    rf = Make(peers, me, persister, applyCh)
        Create a peer. peers[i] is the labrpc end that reaches peer i (this
        one is peers[me]); applyCh is a queue.Queue that receives an ApplyMsg
        for each newly committed entry. Make returns at once.
    rf.GetState() -> (term, isLeader)
    rf.Start(command) -> (index, term, isLeader)
        Ask the leader to append command to the log; returns at once.
    rf.Kill(), rf.killed()

Peers talk only through labrpc: the handlers RequestVote and AppendEntries
are called as "Raft.RequestVote" and "Raft.AppendEntries".

How the code is laid out: the protocol's rules are small methods whose names
end in _locked. They run with self.mu held and never sleep, send or block;
when a rule wants RPCs sent, it returns them as jobs. Long-lived waiting is
done by the ticker thread (election timeouts and heartbeats); each RPC is sent
from a short-lived thread of its own, so a slow or lost call never holds up
the others.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from queue import Queue
from typing import Any, Callable, List, Sequence, Tuple

import labgob
from labrpc import ClientEnd
from raft import util
from raft.persister import Persister

# The tester allows at most 10 heartbeat rounds a second.
HEARTBEAT_INTERVAL_S = 0.100
# Election timeouts are drawn from this range: well above the heartbeat
# interval (a follower tolerates one lost heartbeat), wide enough that two
# peers rarely time out together, and short enough that a new leader comes
# within half a second of the old one failing (the tester allows 5 s).
ELECTION_TIMEOUT_MIN_S = 0.250
ELECTION_TIMEOUT_MAX_S = 0.400
# The ticker's longest sleep: how late it may notice Kill() or a deadline.
TICK_S = 0.020

FOLLOWER = "follower"
CANDIDATE = "candidate"
LEADER = "leader"

NO_VOTE = -1


@dataclass
class ApplyMsg:
    """What a peer puts on applyCh: a committed command (or, in 2D, a snapshot)."""

    CommandValid: bool = False
    Command: Any = None
    CommandIndex: int = 0

    SnapshotValid: bool = False
    Snapshot: bytes = b""
    SnapshotTerm: int = 0
    SnapshotIndex: int = 0


@dataclass
class LogEntry:
    Term: int = 0
    Command: Any = None


@dataclass
class RequestVoteArgs:
    Term: int = 0
    CandidateId: int = 0
    LastLogIndex: int = 0
    LastLogTerm: int = 0


@dataclass
class RequestVoteReply:
    Term: int = 0
    VoteGranted: bool = False


@dataclass
class AppendEntriesArgs:
    Term: int = 0
    LeaderId: int = 0
    PrevLogIndex: int = 0
    PrevLogTerm: int = 0
    Entries: List[LogEntry] = field(default_factory=list)
    LeaderCommit: int = 0


@dataclass
class AppendEntriesReply:
    Term: int = 0
    Success: bool = False


# A job is an RPC to send once the lock is released: (function, peer, args).
Job = Tuple[Callable[[int, Any], None], int, Any]


class Raft:
    """One Raft peer. Build it with Make()."""

    def __init__(
        self, peers: Sequence[ClientEnd], me: int, persister: Persister, applyCh: "Queue[Any]"
    ) -> None:
        self.mu = threading.Lock()
        self.peers = list(peers)
        self.persister = persister
        self.me = me
        self.applyCh = applyCh
        self.dead = False

        # Figure 2: persistent state.
        self.currentTerm = 0
        self.votedFor = NO_VOTE
        # log[0] is a sentinel, so that the first real entry has index 1.
        self.log: List[LogEntry] = [LogEntry(Term=0)]
        # Figure 2: volatile state.
        self.commitIndex = 0
        self.lastApplied = 0
        self.nextIndex: List[int] = []
        self.matchIndex: List[int] = []

        self.role = FOLLOWER
        self._votes = 0
        self._election_deadline = 0.0
        self._next_heartbeat = 0.0

        self.readPersist(persister.ReadRaftState())
        self._reset_election_timer_locked()

    # --- the interface the tester uses ----------------------------------------

    def GetState(self) -> Tuple[int, bool]:
        with self.mu:
            return self.currentTerm, self.role == LEADER

    def Start(self, command: Any) -> Tuple[int, int, bool]:
        with self.mu:
            if self.role != LEADER:
                return -1, self.currentTerm, False
            self.log.append(LogEntry(Term=self.currentTerm, Command=command))
            self.persist()
            index = len(self.log) - 1
            self._log("log", "start index %d", index)
            return index, self.currentTerm, True

    def Kill(self) -> None:
        """Stop this peer: its threads notice within TICK_S and end."""
        self.dead = True

    def killed(self) -> bool:
        return self.dead

    # --- persistence -------------------------------------------------------

    def persist(self) -> None:
        """Save Figure 2's persistent state; call with self.mu held."""
        state = labgob.dumps([self.currentTerm, self.votedFor, self.log], root_name="raft state")
        self.persister.SaveRaftState(state)

    def readPersist(self, data: bytes) -> None:
        if not data:
            return
        self.currentTerm, self.votedFor, self.log = labgob.loads(data)

    # --- RPC handlers ------------------------------------------------------------

    def RequestVote(self, args: RequestVoteArgs, reply: RequestVoteReply) -> None:
        with self.mu:
            if args.Term > self.currentTerm:
                self._become_follower_locked(args.Term)
            reply.Term = self.currentTerm
            if args.Term < self.currentTerm:
                return
            if self.votedFor not in (NO_VOTE, args.CandidateId):
                return
            their_log = (args.LastLogTerm, args.LastLogIndex)
            if their_log < (self._last_log_term(), self._last_log_index()):
                self._log("vote", "refuse S%d: its log is behind", args.CandidateId)
                return
            self.votedFor = args.CandidateId
            self.persist()
            self._reset_election_timer_locked()
            reply.VoteGranted = True
            self._log("vote", "vote for S%d", args.CandidateId)

    def AppendEntries(self, args: AppendEntriesArgs, reply: AppendEntriesReply) -> None:
        with self.mu:
            if args.Term < self.currentTerm:
                reply.Term = self.currentTerm
                return
            if args.Term > self.currentTerm or self.role != FOLLOWER:
                self._become_follower_locked(args.Term)
            self._reset_election_timer_locked()
            reply.Term = self.currentTerm
            reply.Success = True

    # --- rules (self.mu held; they never block) ------------------------------------

    def _last_log_index(self) -> int:
        return len(self.log) - 1

    def _last_log_term(self) -> int:
        return self.log[-1].Term

    def _reset_election_timer_locked(self) -> None:
        timeout = random.uniform(ELECTION_TIMEOUT_MIN_S, ELECTION_TIMEOUT_MAX_S)
        self._election_deadline = time.monotonic() + timeout

    def _become_follower_locked(self, term: int) -> None:
        if self.role == LEADER:
            # A leader keeps no election timer; start a fresh one.
            self._reset_election_timer_locked()
        if term > self.currentTerm:
            self.currentTerm = term
            self.votedFor = NO_VOTE
            self.persist()
        if self.role != FOLLOWER:
            self.role = FOLLOWER
            self._log("term", "become follower")

    def _become_candidate_locked(self) -> List[Job]:
        self.currentTerm += 1
        self.role = CANDIDATE
        self.votedFor = self.me
        self._votes = 1
        self.persist()
        self._reset_election_timer_locked()
        self._log("timer", "election timeout: start election")
        if self._is_majority(self._votes):
            return self._become_leader_locked()
        args = RequestVoteArgs(
            Term=self.currentTerm,
            CandidateId=self.me,
            LastLogIndex=self._last_log_index(),
            LastLogTerm=self._last_log_term(),
        )
        return [(self._ask_for_vote, peer, args) for peer in self._others()]

    def _become_leader_locked(self) -> List[Job]:
        self.role = LEADER
        self.nextIndex = [len(self.log)] * len(self.peers)
        self.matchIndex = [0] * len(self.peers)
        self.matchIndex[self.me] = self._last_log_index()
        self._log("leader", "won the election with %d votes", self._votes)
        return self._heartbeats_locked()

    def _heartbeats_locked(self) -> List[Job]:
        self._next_heartbeat = time.monotonic() + HEARTBEAT_INTERVAL_S
        jobs: List[Job] = []
        for peer in self._others():
            prev = self.nextIndex[peer] - 1
            args = AppendEntriesArgs(
                Term=self.currentTerm,
                LeaderId=self.me,
                PrevLogIndex=prev,
                PrevLogTerm=self.log[prev].Term,
                Entries=[],
                LeaderCommit=self.commitIndex,
            )
            jobs.append((self._send_heartbeat, peer, args))
        return jobs

    def _is_majority(self, count: int) -> bool:
        return 2 * count > len(self.peers)

    def _others(self) -> List[int]:
        return [peer for peer in range(len(self.peers)) if peer != self.me]

    def _log(self, topic: str, format: str, *args: Any) -> None:
        if util.Debug:
            util.DPrintf(
                "%-6s S%d T%d %-9s " + format,
                topic.upper(), self.me, self.currentTerm, self.role, *args,
            )

    # --- threads ---------------------------------------------------------------

    def _ticker(self) -> None:
        while not self.killed():
            with self.mu:
                now = time.monotonic()
                jobs: List[Job] = []
                if self.role == LEADER and now >= self._next_heartbeat:
                    jobs = self._heartbeats_locked()
                elif self.role != LEADER and now >= self._election_deadline:
                    jobs = self._become_candidate_locked()
                wake_at = self._next_heartbeat if self.role == LEADER else self._election_deadline
            self._run(jobs)
            time.sleep(min(max(wake_at - time.monotonic(), 0.001), TICK_S))

    def _run(self, jobs: List[Job]) -> None:
        for send, peer, args in jobs:
            threading.Thread(
                target=send, args=(peer, args), name=f"raft-S{self.me}-rpc", daemon=True
            ).start()

    def _ask_for_vote(self, peer: int, args: RequestVoteArgs) -> None:
        reply = RequestVoteReply()
        if not self.peers[peer].Call("Raft.RequestVote", args, reply):
            return
        jobs: List[Job] = []
        with self.mu:
            if reply.Term > self.currentTerm:
                self._become_follower_locked(reply.Term)
            elif (
                self.role == CANDIDATE
                and self.currentTerm == args.Term
                and reply.VoteGranted
            ):
                self._votes += 1
                if self._is_majority(self._votes):
                    jobs = self._become_leader_locked()
        self._run(jobs)

    def _send_heartbeat(self, peer: int, args: AppendEntriesArgs) -> None:
        reply = AppendEntriesReply()
        if not self.peers[peer].Call("Raft.AppendEntries", args, reply):
            return
        with self.mu:
            if reply.Term > self.currentTerm:
                self._become_follower_locked(reply.Term)


def Make(
    peers: Sequence[ClientEnd], me: int, persister: Persister, applyCh: "Queue[Any]"
) -> Raft:
    """Create a Raft peer and start its threads; returns at once."""
    if not isinstance(me, int) or not 0 <= me < len(peers):
        raise ValueError(f"Make: me={me!r} is not an index into peers (len {len(peers)})")
    if not all(isinstance(end, ClientEnd) for end in peers):
        raise TypeError("Make: peers must be labrpc ClientEnds, one per peer")
    if not isinstance(persister, Persister):
        raise TypeError(f"Make: persister must be a Persister, got {type(persister).__name__}")
    if not hasattr(applyCh, "put"):
        raise TypeError(f"Make: applyCh must be a queue.Queue, got {type(applyCh).__name__}")
    rf = Raft(peers, me, persister, applyCh)
    threading.Thread(target=rf._ticker, name=f"raft-S{me}-ticker", daemon=True).start()
    return rf


__all__ = ["Make", "Raft", "ApplyMsg", "LogEntry"]
