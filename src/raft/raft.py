"""Raft, as the lab's handout describes its interface.

    rf = Make(peers, me, persister, applyCh)
        Create a peer. peers[i] is the labrpc end that reaches peer i (this
        one is peers[me]); applyCh is a queue.Queue that receives an ApplyMsg
        for each newly committed entry, in log order. Make returns at once.
    rf.GetState() -> (term, isLeader)
    rf.Start(command) -> (index, term, isLeader)
        Ask the leader to append command to the log; returns at once,
        without waiting for the entry to commit.
    rf.Snapshot(index, snapshot)
        The service has saved everything through index in snapshot; Raft
        may drop those entries from its log.
    rf.Kill(), rf.killed()

Peers talk only through labrpc: the RPC handlers (RequestVote, ...) are
called as "Raft.RequestVote" and so on.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from queue import Queue
from typing import Any, Sequence, Tuple

# SOLUTION BEGIN
import labgob  # to encode what persist() saves
# SOLUTION END
# STARTER: import labgob  # noqa: F401 (the example in persist() uses it)
from labrpc import ClientEnd
from raft.persister import Persister

# SOLUTION BEGIN
import functools
from dataclasses import field
from typing import Callable, List

from raft import util

# How the code is laid out: the protocol's rules are small methods whose
# names end in _locked. They run with self.mu held and never sleep, send or
# block; when a rule wants RPCs sent, it returns them as jobs, which the
# caller starts once it has released the lock. Waiting is done by long-lived
# threads (the ticker for timeouts and heartbeats, the applier for applyCh)
# and by one short-lived thread per RPC, so a slow or lost call never holds
# up another.
#
# Log indices: after a snapshot, self.log[0] stands for the last entry the
# snapshot holds (index lastIncludedIndex, term lastIncludedTerm), so the
# entry with index i is self.log[i - lastIncludedIndex].

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
# XTerm in an AppendEntries reply when the follower's log is too short.
NO_TERM = -1
# SOLUTION END


@dataclass
class ApplyMsg:
    """What a peer puts on applyCh: a committed command, or a snapshot."""

    CommandValid: bool = False
    Command: Any = None
    CommandIndex: int = 0

    SnapshotValid: bool = False
    Snapshot: bytes = b""
    SnapshotTerm: int = 0
    SnapshotIndex: int = 0


# SOLUTION BEGIN
@dataclass
class LogEntry:
    Term: int = 0
    Command: Any = None


# SOLUTION END
@dataclass
class RequestVoteArgs:
    """RequestVote RPC arguments (give every field a default)."""

    # STARTER: # Your data here (2A, 2B).
    # STARTER: pass
    # SOLUTION BEGIN
    Term: int = 0
    CandidateId: int = 0
    LastLogIndex: int = 0
    LastLogTerm: int = 0
    # SOLUTION END


@dataclass
class RequestVoteReply:
    """RequestVote RPC reply (give every field a default)."""

    # STARTER: # Give every field a default (e.g. `Term: int = 0`): a reply
    # STARTER: # starts empty, as in Go, and RequestVoteReply() must work.
    # STARTER: # Your data here (2A).
    # STARTER: pass
    # SOLUTION BEGIN
    Term: int = 0
    VoteGranted: bool = False
    # SOLUTION END


# SOLUTION BEGIN


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
    # On a mismatch, where the leader should back up to (the lab's
    # accelerated backup): the conflicting entry's term and the first index
    # of that term, or NO_TERM and the follower's log length.
    XTerm: int = NO_TERM
    XIndex: int = 0
    XLen: int = 0


@dataclass
class InstallSnapshotArgs:
    Term: int = 0
    LeaderId: int = 0
    LastIncludedIndex: int = 0
    LastIncludedTerm: int = 0
    Data: bytes = b""


@dataclass
class InstallSnapshotReply:
    Term: int = 0


# An RPC to send once the lock is released.
Job = Callable[[], None]
# SOLUTION END


class Raft:
    """One Raft peer. Build it with Make()."""

    def __init__(
        self, peers: Sequence[ClientEnd], me: int, persister: Persister, applyCh: "Queue[Any]"
    ) -> None:
        self.mu = threading.Lock()  # guards everything below
        self.peers = list(peers)  # the ends that reach every peer
        self.persister = persister  # holds this peer's persisted state
        self.me = me  # this peer's index into peers
        self.applyCh = applyCh
        self.dead = False  # set by Kill()

        # STARTER: # Your data here (2A, 2B, 2C).
        # STARTER: # Look at the paper's Figure 2 for a description of what
        # STARTER: # state a Raft server must maintain.
        # SOLUTION BEGIN
        # Signalled when there is something new for the applier to deliver.
        self.apply_cond = threading.Condition(self.mu)

        # Figure 2: persistent state.
        self.currentTerm = 0
        self.votedFor = NO_VOTE
        self.log: List[LogEntry] = [LogEntry(Term=0)]
        # Figure 13: what the latest snapshot covers.
        self.lastIncludedIndex = 0
        self.lastIncludedTerm = 0
        self.snapshot = b""
        # Figure 2: volatile state.
        self.commitIndex = 0
        self.lastApplied = 0
        self.nextIndex: List[int] = []
        self.matchIndex: List[int] = []

        self.role = FOLLOWER
        self._votes = 0
        self._election_deadline = 0.0
        self._next_heartbeat = 0.0
        self._snapshot_to_apply = False
        # The latest AppendEntries/InstallSnapshot sent to each peer: its
        # number, when it left, and whether it has come back.
        self._send_seq = [0] * len(self.peers)
        self._sent_at = [0.0] * len(self.peers)
        self._answered = [True] * len(self.peers)
        self._reset_election_timer_locked()
        # SOLUTION END

    # --- the interface the tester uses ----------------------------------------

    def GetState(self) -> Tuple[int, bool]:
        """currentTerm, and whether this peer believes it is the leader."""
        # STARTER: term = 0
        # STARTER: isleader = False
        # STARTER: # Your code here (2A).
        # STARTER: return term, isleader
        # SOLUTION BEGIN
        with self.mu:
            return self.currentTerm, self.role == LEADER
        # SOLUTION END

    def Start(self, command: Any) -> Tuple[int, int, bool]:
        """Start agreement on command; return at once (index, term, isLeader).

        If this peer is not the leader, isLeader is False. Otherwise the
        command will appear at index, if it is ever committed; term is the
        current term. There is no guarantee that it will ever be committed:
        the leader may fail or lose an election.
        """
        # STARTER: index = -1
        # STARTER: term = -1
        # STARTER: isLeader = True
        # STARTER: # Your code here (2B).
        # STARTER: return index, term, isLeader
        # SOLUTION BEGIN
        with self.mu:
            if self.role != LEADER:
                return -1, self.currentTerm, False
            self.log.append(LogEntry(Term=self.currentTerm, Command=command))
            self.persist()
            index = self._last_log_index()
            self.matchIndex[self.me] = index
            self._log("log", "start index %d", index)
            # (A lone peer is its own majority: it commits at once.)
            jobs = self._advance_commit_locked() or self._replicate_locked(eager=True)
            term = self.currentTerm
        self._run(jobs)
        return index, term, True
        # SOLUTION END

    def Snapshot(self, index: int, snapshot: bytes) -> None:
        """The service's snapshot holds every entry through index.

        Raft may now drop those entries from its log.
        """
        # STARTER: # Your code here (2D).
        # STARTER: pass
        # SOLUTION BEGIN
        if not isinstance(snapshot, (bytes, bytearray)):
            raise TypeError(f"Snapshot: snapshot must be bytes, got {type(snapshot).__name__}")
        with self.mu:
            if index <= self.lastIncludedIndex:
                return  # an older snapshot than the one we have
            if index > self.lastApplied:
                raise ValueError(
                    f"Snapshot: index {index} has not been applied yet "
                    f"(lastApplied is {self.lastApplied})"
                )
            self._compact_locked(index, self._term_at(index), bytes(snapshot))
            self.persist()
            self._log("snap", "snapshot through %d", index)
        # SOLUTION END

    def Kill(self) -> None:
        """Stop this peer; its long-running threads check killed() and end.

        The tester calls Kill() when it is done with a peer; a killed peer
        should stop its threads and send nothing more.
        """
        self.dead = True
        # STARTER: # Your code here, if desired.
        # SOLUTION BEGIN
        with self.mu:
            self.apply_cond.notify_all()
        # SOLUTION END

    def killed(self) -> bool:
        return self.dead

    # --- persistence -------------------------------------------------------

    def persist(self) -> None:
        """Save Raft's persistent state (Figure 2), to be read after a restart."""
        # STARTER: # Your code here (2C).
        # STARTER: # Example:
        # STARTER: # state = labgob.dumps([self.xxx, self.yyy])
        # STARTER: # self.persister.SaveRaftState(state)
        # STARTER: pass
        # SOLUTION BEGIN
        # Called with self.mu held. Entries are saved as (term, command)
        # pairs: plain tuples encode an order of magnitude faster than
        # objects, and the log is saved often.
        entries = [(entry.Term, entry.Command) for entry in self.log]
        state = labgob.dumps(
            [self.currentTerm, self.votedFor, self.lastIncludedIndex, entries],
            root_name="raft state",
        )
        self.persister.SaveStateAndSnapshot(state, self.snapshot)
        # SOLUTION END

    def readPersist(self, data: bytes) -> None:
        """Restore the state persist() saved."""
        if not data:  # a first start: nothing saved yet
            return
        # STARTER: # Your code here (2C).
        # STARTER: # Example:
        # STARTER: # self.xxx, self.yyy = labgob.loads(data)
        # SOLUTION BEGIN
        self.currentTerm, self.votedFor, self.lastIncludedIndex, entries = labgob.loads(data)
        self.log = [LogEntry(Term=term, Command=command) for term, command in entries]
        self.lastIncludedTerm = self.log[0].Term
        self.snapshot = self.persister.ReadSnapshot()
        # The service restores itself from the snapshot; Raft carries on
        # after it.
        self.commitIndex = self.lastApplied = self.lastIncludedIndex
        # SOLUTION END

    # --- RPC handlers ------------------------------------------------------------

    def RequestVote(self, args: RequestVoteArgs, reply: RequestVoteReply) -> None:
        """The RequestVote RPC handler: fill in reply."""
        # STARTER: # Your code here (2A, 2B).
        # STARTER: pass
        # SOLUTION BEGIN
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
        # SOLUTION END

    # STARTER: def sendRequestVote(self, server: int, args: RequestVoteArgs,
    # STARTER:                     reply: RequestVoteReply) -> bool:
    # STARTER:     """Example: send a RequestVote RPC to peer `server`.
    # STARTER:
    # STARTER:     Call() blocks until the network answers and returns True if a
    # STARTER:     reply arrived (reply then holds it), False if none did: the
    # STARTER:     request or the reply was lost, or the server is down or cut
    # STARTER:     off. False can take a while (up to 7 s in these tests), so
    # STARTER:     send each RPC from a thread of its own and never hold self.mu
    # STARTER:     while waiting. Always give Call a fresh reply object.
    # STARTER:     """
    # STARTER:     return self.peers[server].Call("Raft.RequestVote", args, reply)
    # STARTER:
    # SOLUTION BEGIN
    def AppendEntries(self, args: AppendEntriesArgs, reply: AppendEntriesReply) -> None:
        with self.mu:
            reply.Term = self.currentTerm
            if args.Term < self.currentTerm:
                return
            if args.Term > self.currentTerm or self.role != FOLLOWER:
                self._become_follower_locked(args.Term)
            self._reset_election_timer_locked()
            reply.Term = self.currentTerm

            prev, entries = args.PrevLogIndex, args.Entries
            if prev < self.lastIncludedIndex:
                # Entries our snapshot covers are committed, hence equal:
                # match from the snapshot on.
                skip = self.lastIncludedIndex - prev
                if skip > len(entries):
                    reply.Success = True
                    return
                entries = entries[skip:]
                prev = self.lastIncludedIndex
            elif prev > self._last_log_index():
                reply.XTerm, reply.XLen = NO_TERM, self._last_log_index() + 1
                return
            elif self._term_at(prev) != args.PrevLogTerm:
                reply.XTerm = self._term_at(prev)
                reply.XIndex = self._first_index_of_term(reply.XTerm, prev)
                reply.XLen = self._last_log_index() + 1
                return

            # Append what is new; cut the log only where it disagrees, since
            # this request may be older than one already taken.
            for offset, entry in enumerate(entries):
                index = prev + 1 + offset
                if index > self._last_log_index() or self._term_at(index) != entry.Term:
                    del self.log[index - self.lastIncludedIndex:]
                    self.log.extend(entries[offset:])
                    self.persist()
                    self._log("log", "append %d entries after %d", len(entries) - offset, index - 1)
                    break
            reply.Success = True
            last_new = prev + len(entries)
            if args.LeaderCommit > self.commitIndex:
                self._set_commit_index_locked(min(args.LeaderCommit, last_new))

    def InstallSnapshot(self, args: InstallSnapshotArgs, reply: InstallSnapshotReply) -> None:
        with self.mu:
            reply.Term = self.currentTerm
            if args.Term < self.currentTerm:
                return
            if args.Term > self.currentTerm or self.role != FOLLOWER:
                self._become_follower_locked(args.Term)
            self._reset_election_timer_locked()
            reply.Term = self.currentTerm
            if args.LastIncludedIndex <= self.commitIndex:
                return  # we already have all that, and maybe more
            self._compact_locked(args.LastIncludedIndex, args.LastIncludedTerm, args.Data)
            self.commitIndex = args.LastIncludedIndex
            self._snapshot_to_apply = True
            self.persist()
            self.apply_cond.notify_all()
            self._log("snap", "installed snapshot through %d", args.LastIncludedIndex)

    # --- rules (self.mu held; they never block) ------------------------------------

    def _last_log_index(self) -> int:
        return self.lastIncludedIndex + len(self.log) - 1

    def _last_log_term(self) -> int:
        return self.log[-1].Term

    def _term_at(self, index: int) -> int:
        return self.log[index - self.lastIncludedIndex].Term

    def _first_index_of_term(self, term: int, at: int) -> int:
        """The first index of term's run of entries that includes index at."""
        while at - 1 > self.lastIncludedIndex and self._term_at(at - 1) == term:
            at -= 1
        return at

    def _compact_locked(self, index: int, term: int, snapshot: bytes) -> None:
        """Drop the log through index, keeping what follows if it agrees."""
        if index <= self._last_log_index() and self._term_at(index) == term:
            kept = self.log[index - self.lastIncludedIndex + 1:]
        else:
            kept = []
        self.log = [LogEntry(Term=term)] + kept
        self.lastIncludedIndex = index
        self.lastIncludedTerm = term
        self.snapshot = snapshot

    def _set_commit_index_locked(self, index: int) -> None:
        if index > self.commitIndex:
            self.commitIndex = index
            self.apply_cond.notify_all()
            self._log("commit", "commit through %d", index)

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
        return [functools.partial(self._ask_for_vote, peer, args) for peer in self._others()]

    def _become_leader_locked(self) -> List[Job]:
        self.role = LEADER
        self.nextIndex = [self._last_log_index() + 1] * len(self.peers)
        self.matchIndex = [0] * len(self.peers)
        self.matchIndex[self.me] = self._last_log_index()
        self._log("leader", "won the election with %d votes", self._votes)
        return self._replicate_locked(eager=False)

    def _replicate_locked(self, eager: bool) -> List[Job]:
        """AppendEntries (or InstallSnapshot) for the followers.

        eager sends (a new entry, a new commit index) skip a peer whose
        previous request left less than a heartbeat ago and has not come
        back: its reply will send what is new. Heartbeats go to everyone.
        """
        now = time.monotonic()
        if not eager:
            self._next_heartbeat = now + HEARTBEAT_INTERVAL_S
        jobs: List[Job] = []
        for peer in self._others():
            waiting = not self._answered[peer] and now - self._sent_at[peer] < HEARTBEAT_INTERVAL_S
            if eager and waiting:
                continue
            jobs.append(self._request_for_locked(peer, now))
        return jobs

    def _request_for_locked(self, peer: int, now: float) -> Job:
        self._send_seq[peer] += 1
        self._sent_at[peer] = now
        self._answered[peer] = False
        seq = self._send_seq[peer]
        next_index = self.nextIndex[peer]
        if next_index <= self.lastIncludedIndex:
            snap_args = InstallSnapshotArgs(
                Term=self.currentTerm,
                LeaderId=self.me,
                LastIncludedIndex=self.lastIncludedIndex,
                LastIncludedTerm=self.lastIncludedTerm,
                Data=self.snapshot,
            )
            return functools.partial(self._send_install_snapshot, peer, snap_args, seq)
        args = AppendEntriesArgs(
            Term=self.currentTerm,
            LeaderId=self.me,
            PrevLogIndex=next_index - 1,
            PrevLogTerm=self._term_at(next_index - 1),
            Entries=self.log[next_index - self.lastIncludedIndex:],
            LeaderCommit=self.commitIndex,
        )
        return functools.partial(self._send_append_entries, peer, args, seq)

    def _after_reply_locked(self, peer: int, seq: int, ok: bool) -> List[Job]:
        """Note the answer; if the peer answered and still lags, send it more.

        A request that got no answer is not retried here: the next heartbeat
        retries it, so an unreachable peer is not flooded.
        """
        if seq != self._send_seq[peer]:
            return []
        self._answered[peer] = True
        if ok and self.role == LEADER and self.nextIndex[peer] <= self._last_log_index():
            return [self._request_for_locked(peer, time.monotonic())]
        return []

    def _peer_holds_locked(self, peer: int, index: int) -> List[Job]:
        """peer's log matches ours through index: note it; maybe commit."""
        jobs: List[Job] = []
        if index > self.matchIndex[peer]:
            self.matchIndex[peer] = index
            jobs = self._advance_commit_locked()
        self.nextIndex[peer] = max(self.nextIndex[peer], index + 1)
        return jobs

    def _advance_commit_locked(self) -> List[Job]:
        """Commit the newest current-term entry a majority holds (Figure 2)."""
        for index in range(self._last_log_index(), self.commitIndex, -1):
            if self._term_at(index) != self.currentTerm:
                break  # older terms commit only under a current-term entry
            if self._is_majority(sum(1 for match in self.matchIndex if match >= index)):
                self._set_commit_index_locked(index)
                # Tell the followers now rather than at the next heartbeat.
                return self._replicate_locked(eager=True)
        return []

    def _backed_up_next_index_locked(self, reply: AppendEntriesReply) -> int:
        if reply.XTerm == NO_TERM:
            return reply.XLen
        index = self._last_log_index()
        while index > self.lastIncludedIndex and self._term_at(index) > reply.XTerm:
            index -= 1
        if index > self.lastIncludedIndex and self._term_at(index) == reply.XTerm:
            return index + 1  # we have XTerm: resume after our last entry of it
        return reply.XIndex  # we lack XTerm: skip all of the follower's run of it

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

    # SOLUTION END
    # --- threads ---------------------------------------------------------------

    def ticker(self) -> None:
        """Start an election when no leader has been heard from for a while."""
        # STARTER: while not self.killed():
        # STARTER:     # Your code here (2A)
        # STARTER:     # Check if a leader election should be started.
        # STARTER:
        # STARTER:     # Pause for a random time between 50 and 350 milliseconds.
        # STARTER:     ms = 50 + random.randrange(300)
        # STARTER:     time.sleep(ms / 1000)
        # SOLUTION BEGIN
        while not self.killed():
            with self.mu:
                now = time.monotonic()
                jobs: List[Job] = []
                if self.role == LEADER and now >= self._next_heartbeat:
                    jobs = self._replicate_locked(eager=False)
                elif self.role != LEADER and now >= self._election_deadline:
                    jobs = self._become_candidate_locked()
                wake_at = self._next_heartbeat if self.role == LEADER else self._election_deadline
            self._run(jobs)
            time.sleep(min(max(wake_at - time.monotonic(), 0.001), TICK_S))
        # SOLUTION END
    # SOLUTION BEGIN

    def _applier(self) -> None:
        """Deliver committed entries, and installed snapshots, in order."""
        while True:
            with self.mu:
                while not (
                    self.dead or self._snapshot_to_apply or self.lastApplied < self.commitIndex
                ):
                    self.apply_cond.wait()
                if self.dead:
                    return
                if self._snapshot_to_apply:
                    self._snapshot_to_apply = False
                    self.lastApplied = max(self.lastApplied, self.lastIncludedIndex)
                    msgs = [ApplyMsg(
                        SnapshotValid=True,
                        Snapshot=self.snapshot,
                        SnapshotTerm=self.lastIncludedTerm,
                        SnapshotIndex=self.lastIncludedIndex,
                    )]
                else:
                    first = self.lastApplied + 1
                    msgs = [
                        ApplyMsg(CommandValid=True, Command=entry.Command, CommandIndex=index)
                        for index, entry in enumerate(
                            self.log[first - self.lastIncludedIndex:self.commitIndex
                                     - self.lastIncludedIndex + 1],
                            start=first,
                        )
                    ]
                    self.lastApplied = self.commitIndex
            # The lock is not held while the service takes the messages.
            for msg in msgs:
                self.applyCh.put(msg)

    def _run(self, jobs: List[Job]) -> None:
        if self.killed():
            return  # a dead peer sends nothing more
        for job in jobs:
            threading.Thread(target=job, name=f"raft-S{self.me}-rpc", daemon=True).start()

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

    def _send_append_entries(self, peer: int, args: AppendEntriesArgs, seq: int) -> None:
        reply = AppendEntriesReply()
        ok = self.peers[peer].Call("Raft.AppendEntries", args, reply)
        jobs: List[Job] = []
        with self.mu:
            if ok and reply.Term > self.currentTerm:
                self._become_follower_locked(reply.Term)
            elif ok and self.role == LEADER and self.currentTerm == args.Term:
                if reply.Success:
                    jobs = self._peer_holds_locked(peer, args.PrevLogIndex + len(args.Entries))
                else:
                    # Never back up past what the peer is known to hold.
                    self.nextIndex[peer] = max(
                        self.matchIndex[peer] + 1,
                        min(self._backed_up_next_index_locked(reply), self._last_log_index() + 1),
                    )
            jobs += self._after_reply_locked(peer, seq, ok)
        self._run(jobs)

    def _send_install_snapshot(self, peer: int, args: InstallSnapshotArgs, seq: int) -> None:
        reply = InstallSnapshotReply()
        ok = self.peers[peer].Call("Raft.InstallSnapshot", args, reply)
        jobs: List[Job] = []
        with self.mu:
            if ok and reply.Term > self.currentTerm:
                self._become_follower_locked(reply.Term)
            elif ok and self.role == LEADER and self.currentTerm == args.Term:
                jobs = self._peer_holds_locked(peer, args.LastIncludedIndex)
            jobs += self._after_reply_locked(peer, seq, ok)
        self._run(jobs)
    # SOLUTION END


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
    # Your initialization code goes in Raft.__init__ (2A, 2B, 2C).

    # Pick up the state persisted before a crash.
    rf.readPersist(persister.ReadRaftState())

    # The ticker starts elections.
    threading.Thread(target=rf.ticker, name=f"raft-S{me}-ticker", daemon=True).start()
    # SOLUTION BEGIN
    threading.Thread(target=rf._applier, name=f"raft-S{me}-applier", daemon=True).start()
    # SOLUTION END
    return rf


__all__ = ["Make", "Raft", "ApplyMsg"]
