"""Stand-in records for the timeline's tests and benchmark.

These builders make records of the shape the run's record has
(labrpc/record.py; its format is in docs/monitors.md, "Record format"),
event for event (meta, rpc, harness, log, violation), so the timeline can
be tested without running Raft:

    failing_reelection()      a 3-peer 2A-like run: elections, heartbeats, the
                              leader cut off and back, then a lone peer that
                              leads without a majority (a violation, a failed check)
    everything()              every event kind and every RPC outcome at least once:
                              drops, a crash and restart, Start()s and applies,
                              reordered replies, InstallSnapshot, cleanup
    large(rpcs=20000, seconds=120)
                              a 5-peer unreliable run with commands, the
                              benchmark's 2-minute record
    write_jsonl(events, path) the record's file format: one JSON event a line

Every builder is deterministic (a seeded random.Random): the same call gives
the same events.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Dict, List, Optional

RV = "Raft.RequestVote"
AE = "Raft.AppendEntries"
IS = "Raft.InstallSnapshot"
HEARTBEAT_S = 0.1


class RecordBuilder:
    """Events as the record holds them: added out of order, numbered by time."""

    def __init__(self, test: str, peers: int, seed: int = 1) -> None:
        self.peers = peers
        self.rng = random.Random(seed)
        self._events: List[Dict[str, Any]] = []
        self._next_rpc = 0
        self.add(0.0, "meta", test=test, peers=peers, format=1)
        for peer in range(peers):      # the harness's start1 (crash1 first), then connect
            self.harness(0.0001, "disconnect", peer=peer)
            self.harness(0.0001, "crash", peer=peer)
            self.harness(0.0002, "start", peer=peer)
            self.harness(0.0003, "connect", peer=peer)

    def add(self, t: float, kind: str, **fields: Any) -> Dict[str, Any]:
        event = {"t": round(t, 6), "kind": kind, **fields}
        self._events.append(event)
        return event

    def harness(self, t: float, action: str, **fields: Any) -> None:
        self.add(t, "harness", action=action, **fields)

    def log(self, t: float, peer: Optional[int], text: str) -> None:
        self.add(t, "log", peer=peer, text=f"{int(t * 1000):06d} {text}")

    def rpc(self, sent: float, src: Optional[int], dst: Optional[int], method: str,
            args: Dict[str, Any], reply: Optional[Dict[str, Any]],
            outcome: str = "ok", reordered: bool = False) -> Dict[str, Any]:
        """One call, added (as the record does) at the moment it returned."""
        delay = 0.0005 + self.rng.random() * 0.002
        handled: Optional[float] = sent + delay
        done = handled + 0.0005 + self.rng.random() * 0.002
        if outcome in ("request_dropped", "disconnected", "dead_server", "cleanup"):
            handled, reply = None, None
            done = sent + self.rng.random() * 0.027
        elif outcome == "reply_dropped":
            done = handled + self.rng.random() * 0.027
        if reordered:
            done = handled + 0.2 + self.rng.random() * 2.0
        self._next_rpc += 1
        body = json.dumps(args, sort_keys=True)
        return self.add(
            done, "rpc", id=self._next_rpc, src=src, dst=dst, method=method,
            args=args, reply=reply, bytes=len(body), sent=round(sent, 6),
            handled=None if handled is None else round(handled, 6), done=round(done, 6),
            outcome=outcome, reordered=reordered,
        )

    def events(self) -> List[Dict[str, Any]]:
        """The events in time order (meta first), numbered by seq as the record does."""
        meta, rest = self._events[0], self._events[1:]
        ordered = [meta] + sorted(rest, key=lambda e: e["t"])
        return [{"seq": n, **event} for n, event in enumerate(ordered)]


class Cluster:
    """Just enough of Raft to make believable traffic: terms, votes, heartbeats, logs."""

    def __init__(self, builder: RecordBuilder, drop: float = 0.0) -> None:
        self.b = builder
        n = builder.peers
        self.term = [0] * n
        self.voted: List[Optional[int]] = [None] * n
        self.role = ["follower"] * n
        self.connected = [True] * n
        self.alive = [True] * n
        self.log: List[List[Any]] = [[] for _ in range(n)]   # entries: [term, command]
        self.commit = [0] * n
        self.drop = drop        # fraction of requests, and of replies, lost

    def _reachable(self, a: int, b: int) -> bool:
        return self.connected[a] and self.connected[b]

    def _outcome(self, src: int, dst: int) -> str:
        if not self.connected[src] or not self.connected[dst]:
            return "disconnected"
        if not self.alive[dst]:
            return "dead_server"
        if self.drop and self.b.rng.random() < self.drop:
            return "request_dropped"
        if self.drop and self.b.rng.random() < self.drop:
            return "reply_dropped"
        return "ok"

    def disconnect(self, t: float, peer: int) -> None:
        self.connected[peer] = False
        self.b.harness(t, "disconnect", peer=peer)

    def connect(self, t: float, peer: int) -> None:
        self.connected[peer] = True
        self.b.harness(t, "connect", peer=peer)

    def crash(self, t: float, peer: int) -> None:
        self.alive[peer] = False
        self.connected[peer] = False      # the harness's crash1 disconnects first
        self.role[peer] = "follower"
        self.b.harness(t, "crash", peer=peer)

    def start(self, t: float, peer: int) -> None:
        self.alive[peer] = True
        self.connected[peer] = True
        self.b.harness(t, "start", peer=peer)
        self.b.log(t + 0.0001, peer, f"PERS S{peer} T{self.term[peer]} follower  restarted")

    def elect(self, t: float, cand: int, cheat: bool = False) -> bool:
        """cand times out and asks for votes; True if it became leader."""
        b = self.b
        self.term[cand] += 1
        term = self.term[cand]
        self.voted[cand] = cand
        self.role[cand] = "candidate"
        b.log(t, cand, f"TIMR S{cand} T{term} candidate election timeout, asking for votes")
        votes = 1
        last = len(self.log[cand])
        last_term = self.log[cand][-1][0] if last else 0
        for peer in range(b.peers):
            if peer == cand:
                continue
            sent = t + 0.0002 * peer
            args = {"Term": term, "CandidateId": cand, "LastLogIndex": last,
                    "LastLogTerm": last_term}
            outcome = self._outcome(cand, peer)
            reply = None
            if outcome in ("ok", "reply_dropped"):
                if term > self.term[peer]:
                    self.term[peer] = term
                    self.voted[peer] = None
                    self.role[peer] = "follower"
                granted = self.voted[peer] in (None, cand) and term == self.term[peer]
                if granted:
                    self.voted[peer] = cand
                reply = {"Term": self.term[peer], "VoteGranted": granted}
                b.log(sent + 0.001, peer,
                      f"VOTE S{peer} T{self.term[peer]} follower  "
                      f"{'granted' if granted else 'refused'} vote to S{cand}")
            b.rpc(sent, cand, peer, RV, args, reply, outcome)
            if outcome == "ok" and reply["VoteGranted"]:
                votes += 1
        if votes * 2 > b.peers or cheat:
            self.role[cand] = "leader"
            b.log(t + 0.004, cand,
                  f"LEAD S{cand} T{term} leader    won the election with {votes} votes")
            return True
        return False

    def heartbeat(self, t: float, leader: int, command: Any = None) -> None:
        """One round of AppendEntries from leader (with command's entry, if any)."""
        b = self.b
        term = self.term[leader]
        if command is not None:
            self.log[leader].append([term, command])
            index = len(self.log[leader])
            b.harness(t, "Start", peer=leader, command=command, index=index, term=term,
                      is_leader=True)
        acks = 1
        for peer in range(b.peers):
            if peer == leader:
                continue
            sent = t + 0.0001 * (peer + 1)
            have = len(self.log[peer])
            prev = min(have, len(self.log[leader]) - (1 if command is not None else 0))
            entries = [{"Term": e[0], "Command": e[1]} for e in self.log[leader][prev:]]
            args = {"Term": term, "LeaderId": leader, "PrevLogIndex": prev,
                    "PrevLogTerm": self.log[leader][prev - 1][0] if prev else 0,
                    "Entries": entries, "LeaderCommit": self.commit[leader]}
            outcome = self._outcome(leader, peer)
            reply = None
            if outcome in ("ok", "reply_dropped"):
                success = term >= self.term[peer]
                if success:
                    self.term[peer] = term
                    self.role[peer] = "follower"
                    if len(self.log[peer]) != len(self.log[leader]):
                        self.log[peer] = self.log[leader][:]
                        b.log(sent + 0.0008, peer, f"APND S{peer} T{term} follower  "
                              f"appended {len(entries)} entries after {prev}")
                    self._apply(sent + 0.001, peer, min(self.commit[leader], len(self.log[peer])))
                reply = {"Term": self.term[peer], "Success": success,
                         "XTerm": -1, "XIndex": 0, "XLen": len(self.log[peer])}
            b.rpc(sent, leader, peer, AE, args, reply, outcome)
            caught_up = len(self.log[peer]) >= len(self.log[leader])
            if outcome == "ok" and reply["Success"] and caught_up:
                acks += 1
            if outcome == "ok" and reply["Term"] > term:
                self.term[leader] = reply["Term"]
                self.role[leader] = "follower"
                b.log(t + 0.003, leader,
                      f"TERM S{leader} T{reply['Term']} follower  saw a newer term, stepping down")
                return
        if acks * 2 > b.peers and self.commit[leader] < len(self.log[leader]):
            self._apply(t + 0.003, leader, len(self.log[leader]))

    def _apply(self, t: float, peer: int, upto: int) -> None:
        while self.commit[peer] < upto:
            self.commit[peer] += 1
            index = self.commit[peer]
            self.b.harness(t, "apply", peer=peer, index=index,
                           command=self.log[peer][index - 1][1])

    def lead(self, t0: float, t1: float, leader: int, every: Optional[float] = None,
             first_command: int = 100) -> int:
        """Heartbeats from t0 to t1, and a command every `every` seconds; the next command."""
        t = t0
        next_cmd = t0 if every else t1 + 1
        command = first_command
        while t < t1 and self.role[leader] == "leader" and self.alive[leader]:
            if every and t >= next_cmd:
                self.heartbeat(t, leader, command)
                command += 1
                next_cmd += every
            else:
                self.heartbeat(t, leader)
            t += HEARTBEAT_S if not every else min(HEARTBEAT_S, every)
        return command


def failing_reelection() -> List[Dict[str, Any]]:
    """A 2A-like run that fails: TestReElection2A with a peer that leads alone."""
    b = RecordBuilder("src/raft/test_raft.py::TestReElection2A", 3, seed=2)
    c = Cluster(b)
    b.harness(0.0, "begin", description="Test (2A): election after network failure")
    c.elect(0.287, 1)
    c.lead(0.292, 1.0, 1)
    b.harness(0.55, "check", name="checkOneLeader", ok=True, result=1)
    c.disconnect(1.0, 1)
    c.lead(1.0, 1.31, 1)                      # the cut-off leader keeps trying
    c.elect(1.31, 0)
    c.lead(1.316, 2.0, 0)
    c.lead(1.396, 2.0, 1)
    b.harness(1.86, "check", name="checkOneLeader", ok=True, result=0)
    c.connect(2.0, 1)
    c.heartbeat(2.05, 1)                      # old leader hears of term 2, steps down
    c.lead(2.016, 2.6, 0)
    b.harness(2.55, "check", name="checkOneLeader", ok=True, result=0)
    c.disconnect(2.6, 0)
    c.disconnect(2.6, 1)
    c.lead(2.6, 2.93, 0)
    c.elect(2.93, 2, cheat=True)              # the planted bug: counts itself twice
    b.add(2.9345, "violation", rule="Election Safety",
          source="Figure 2, RequestVote; section 5.2",
          message="S2 leads term 3 with 1 vote of 3 (a majority is 2)", peers=[2], term=3)
    c.lead(2.935, 3.4, 2)
    b.harness(3.42, "check", name="checkNoLeader", ok=False,
              message="expected no leader among connected servers, but 2 claims to be leader")
    b.harness(3.43, "cleanup")
    return b.events()


def everything() -> List[Dict[str, Any]]:
    """Every event kind and RPC outcome: for the content tests."""
    b = RecordBuilder("src/raft/test_raft.py::TestEverything2C", 3, seed=3)
    c = Cluster(b)
    b.harness(0.0, "begin", description="Test (2C): a bit of everything")
    c.elect(0.3, 0)
    command = c.lead(0.305, 1.0, 0, every=0.2)
    b.harness(0.9, "check", name="one", ok=True, result=2)
    b.harness(1.0, "unreliable", on=True)
    c.drop = 0.3
    command = c.lead(1.0, 2.0, 0, every=0.25, first_command=command)
    b.harness(2.0, "unreliable", on=False)
    c.drop = 0.0
    c.crash(2.1, 2)
    b.rpc(2.095, 0, 2, AE, {"Term": c.term[0], "LeaderId": 0, "PrevLogIndex": 0,
                            "PrevLogTerm": 0, "Entries": [], "LeaderCommit": c.commit[0]},
          None, "dead_server")
    c.lead(2.1, 2.5, 0)
    c.start(2.5, 2)
    b.harness(2.6, "longreordering", on=True)
    b.rpc(2.62, 0, 2, AE, {"Term": c.term[0], "LeaderId": 0, "PrevLogIndex": 0,
                           "PrevLogTerm": 0, "Entries": [], "LeaderCommit": c.commit[0]},
          {"Term": c.term[0], "Success": True, "XTerm": -1, "XIndex": 0, "XLen": 0},
          reordered=True)
    b.rpc(2.64, 0, 2, IS, {"Term": c.term[0], "LeaderId": 0, "LastIncludedIndex": 3,
                           "LastIncludedTerm": 1, "Data": "x" * 600},
          {"Term": c.term[0]})
    b.harness(2.66, "apply", peer=2, snapshot_index=3)
    c.lead(2.7, 3.1, 0)
    b.harness(3.1, "longreordering", on=False)
    b.add(3.15, "violation", rule="Log Matching", source="Figure 2, AppendEntries",
          message="S1 and S2 hold different commands at index 2 of term 1",
          peers=[1, 2], term=1)
    b.harness(3.2, "check", name="checkLogs", ok=False, message="commit index=2 server=2 "
              "201 != server=1 101")
    b.rpc(3.25, 1, 0, AE, {"Term": 1, "LeaderId": 1, "PrevLogIndex": 0, "PrevLogTerm": 0,
                           "Entries": [], "LeaderCommit": 0}, None, "cleanup")
    b.rpc(3.26, None, 1, RV, {"Term": 9, "CandidateId": 7, "LastLogIndex": 0,
                              "LastLogTerm": 0}, None, "disconnected")
    b.harness(3.25, "cleanup")
    b.harness(3.3, "end")
    b.log(3.3, None, "tester: done")
    return b.events()


def large(rpcs: int = 20000, seconds: float = 120.0) -> List[Dict[str, Any]]:
    """A 2-minute 5-peer unreliable run with about `rpcs` RPCs: the benchmark's record."""
    b = RecordBuilder("src/raft/test_raft.py::TestFigure8Unreliable2C", 5, seed=4)
    c = Cluster(b, drop=0.1)
    b.harness(0.0, "begin", description="Test (2C): Figure 8 (unreliable)")
    b.harness(0.0, "unreliable", on=True)
    # A command (and its round of AppendEntries) each `every` seconds; elections
    # and cut-off leaders' gaps take the rest.
    every = 0.97 * seconds * (b.peers - 1) / rpcs
    t, command, candidate = 0.0, 1000, 0
    while t < seconds:
        t += 0.25 + b.rng.random() * 0.15
        while not c.elect(t, candidate):
            t += 0.3
        leader = candidate
        span = 5.0 + b.rng.random() * 10.0
        command = c.lead(t + 0.005, min(seconds, t + span), leader, every=every,
                         first_command=command)
        b.harness(t + span / 2, "check", name="checkOneLeader", ok=True, result=leader)
        t += span
        if t >= seconds:
            break
        victim = leader
        c.disconnect(t, victim)
        candidate = (leader + 1 + b.rng.randrange(b.peers - 1)) % b.peers
        c.connect(t + 1.0, victim)
    b.harness(seconds, "end")
    return b.events()


def write_jsonl(events: List[Dict[str, Any]], path: Path) -> Path:
    """The record's file: one JSON event a line."""
    with open(path, "w") as out:
        for event in events:
            out.write(json.dumps(event) + "\n")
    return path
