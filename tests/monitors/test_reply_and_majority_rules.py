"""The two rules that raft-chaos's harsher faults bring out, on made-up
records (firing where the rule is broken, silent where not), and on the
harness's clusters: a reply's newer term is taken at once; a leader was
elected by a majority of its term."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, List, Optional, Type

import pytest

from labrpc.record import Record
from labtest.testing import T
from monitors.dispatch import Monitors
from monitors.rule import Rule
from monitors.rules import reply_term_adopted
from monitors.rules.leader_has_a_majority import LeaderHasAMajority
from monitors.rules.reply_term_adopted import ReplyTermAdopted
from raft.config import make_config

ROOT = Path(__file__).resolve().parents[2]

RV, AE = "Raft.RequestVote", "Raft.AppendEntries"


class Feed:
    """A record fed by hand, with one rule on it (and grace, for the reply rule)."""

    def __init__(self, rule: Type[Rule], peers: int = 3, grace: Optional[float] = None) -> None:
        self.clock = 0.0
        self.record = Record(clock=lambda: self.clock)
        self.reports: List[str] = []
        self.notes: List[str] = []
        self.ids = 0
        monitors = Monitors(self.record, peers, self.reports.append, self.notes.append, (rule,))
        if grace is not None:
            monitors.rules[0].grace = grace
        self.record.subscribe(monitors)

    def rpc(self, method: str, src: int, dst: int, term: int, reply: Optional[dict],
            sent: float, outcome: str = "ok", src_life: int = 1, **args: Any) -> None:
        done = sent + 0.002
        self.clock = max(self.clock, done)
        self.ids += 1
        self.record.add("rpc", id=self.ids, src=src, dst=dst, method=method,
                        args={"Term": term, **args}, reply=reply, bytes=10, sent=sent,
                        handled=sent + 0.001, handler_done=sent + 0.0015, done=done,
                        outcome=outcome, reordered=False, src_life=src_life, dst_life=1,
                        delivered=True)
        self.record.flush()

    def harness(self, at: float, action: str, **fields: Any) -> None:
        self.clock = max(self.clock, at)
        self.record.add("harness", action=action, **fields)
        self.record.flush()

    def violations(self) -> List[dict]:
        return self.record.of_kind("violation")


def test_reply_term_adopted_fires_on_an_older_term_sent_long_after_a_newer_reply() -> None:
    feed = Feed(ReplyTermAdopted, grace=reply_term_adopted.SIM_GRACE_S)
    feed.rpc(AE, 0, 1, 3, {"Term": 5, "Success": False}, sent=1.000)
    # Built before the reply came, sent just after: within the grace.
    feed.rpc(AE, 0, 2, 3, {"Term": 3, "Success": True},
             sent=1.002 + reply_term_adopted.SIM_GRACE_S / 2)
    assert feed.reports == []
    feed.rpc(AE, 0, 2, 3, {"Term": 3, "Success": True}, sent=1.200)
    (violation,) = feed.violations()
    assert violation["rule"] == "adopt a higher term from a reply"
    assert violation["message"] == (
        "S0 heard of term 5 in a reply to its AppendEntries to S1 (t=1.002 s), yet sent "
        "AppendEntries of term 3 to S2 0.198 s later (t=1.200 s): a reply's newer term must "
        "be taken at once")
    assert violation["evidence"] == [0, 2]  # the seqs of the reply and the late request
    assert feed.reports[0].startswith("Raft rule broken: adopt a higher term from a reply: S0")


def test_reply_term_adopted_is_silent_on_what_proves_nothing() -> None:
    feed = Feed(ReplyTermAdopted, grace=reply_term_adopted.SIM_GRACE_S)
    feed.rpc(RV, 0, 1, 3, {"Term": 5, "VoteGranted": False}, sent=1.0)
    feed.rpc(RV, 0, 2, 6, {"Term": 6, "VoteGranted": True}, sent=1.3)  # it took term 5, and on
    # A dropped reply told its caller nothing.
    feed.rpc(AE, 1, 0, 2, {"Term": 9, "Success": False}, sent=2.0, outcome="reply_dropped")
    feed.rpc(AE, 1, 0, 2, None, sent=2.5, outcome="disconnected")
    # A restarted peer is a new incarnation; a crashed one's sends reach no one.
    feed.rpc(AE, 2, 0, 4, {"Term": 7, "Success": False}, sent=3.0)
    feed.harness(3.1, "crash", peer=2, life=1)
    feed.rpc(AE, 2, 1, 4, None, sent=3.5, outcome="disconnected")
    feed.rpc(RV, 2, 1, 5, {"Term": 5, "VoteGranted": True}, sent=3.6, src_life=2)
    assert feed.reports == [] and feed.violations() == []
    assert reply_term_adopted.stale_sends(feed.record.events) == []


def test_a_lag_under_the_grace_is_measured_but_not_a_violation() -> None:
    # In real time (no simulation here) the grace is long: a loaded machine
    # may leave the thread that takes a reply waiting.
    feed = Feed(ReplyTermAdopted)
    feed.rpc(AE, 0, 1, 3, {"Term": 4, "Success": False}, sent=1.0)
    feed.rpc(AE, 0, 2, 3, None, sent=1.012, outcome="disconnected")
    feed.rpc(AE, 0, 2, 3, None, sent=1.002 + reply_term_adopted.REAL_GRACE_S / 2,
             outcome="disconnected")
    assert feed.reports == []
    (first, second) = reply_term_adopted.stale_sends(feed.record.events)
    assert first[0] == pytest.approx(0.010) and first[1]["id"] == 1 and first[2]["id"] == 2
    assert reply_term_adopted.largest_lag(feed.record.events) == pytest.approx(
        reply_term_adopted.REAL_GRACE_S / 2)


def _vote(feed: Feed, candidate: int, voter: int, term: int, granted: bool, sent: float,
          **kw: Any) -> None:
    feed.rpc(RV, candidate, voter, term, {"Term": term, "VoteGranted": granted}, sent=sent,
             CandidateId=candidate, LastLogIndex=0, LastLogTerm=0, **kw)


def test_leader_has_a_majority_fires_on_a_leader_without_a_majority_of_its_terms_votes() -> None:
    feed = Feed(LeaderHasAMajority, peers=5)
    _vote(feed, 0, 1, 3, True, sent=1.0)   # a vote of an earlier election
    _vote(feed, 0, 1, 4, True, sent=1.5)
    _vote(feed, 0, 2, 4, False, sent=1.5)
    _vote(feed, 0, 3, 4, True, sent=1.5, outcome="reply_dropped")  # never reached S0
    feed.rpc(AE, 0, 1, 4, {"Term": 4, "Success": True}, sent=1.6)
    (violation,) = feed.violations()
    assert violation["rule"] == "a leader is elected by a majority"
    assert violation["message"] == (
        "S0 acted as leader of term 4 (AppendEntries to S1 at t=1.600 s) with votes from "
        "itself and 1 other peer(s) of 5 (S1) granted in term 4 by then: a majority needs 3")
    assert feed.reports[0].startswith("Raft rule broken: a leader is elected by a majority")


def test_leader_has_a_majority_is_silent_on_a_real_majority() -> None:
    feed = Feed(LeaderHasAMajority, peers=5)
    _vote(feed, 0, 1, 4, True, sent=1.5)
    _vote(feed, 0, 2, 4, True, sent=1.5)
    feed.rpc(AE, 0, 3, 4, {"Term": 4, "Success": True}, sent=1.6)
    lone = Feed(LeaderHasAMajority, peers=1)
    lone.rpc(AE, 0, 0, 1, None, sent=0.5, outcome="disconnected")
    assert feed.reports == [] and lone.reports == []


def test_leader_has_a_majority_counts_only_replies_that_came_before_the_request() -> None:
    feed = Feed(LeaderHasAMajority, peers=3)
    feed.rpc(AE, 0, 1, 2, None, sent=1.0, outcome="disconnected")  # sent first...
    _vote(feed, 0, 1, 2, True, sent=1.1)                           # ... its vote came later
    assert len(feed.violations()) == 1


def test_leader_has_a_majority_without_vote_granted_says_so_once() -> None:
    feed = Feed(LeaderHasAMajority)
    feed.rpc(RV, 0, 1, 2, {"Term": 2, "Granted": True}, sent=1.0)
    feed.rpc(RV, 0, 2, 2, {"Term": 2, "Granted": True}, sent=1.0)
    feed.rpc(AE, 0, 1, 2, {"Term": 2, "Success": True}, sent=1.1)
    assert feed.reports == []
    assert feed.notes == ["monitor: cannot check 'a leader is elected by a majority': "
                          "RequestVote's reply has no VoteGranted (Figure 2's name, any case, "
                          "underscores ignored)"]


def test_the_solution_breaks_neither_rule_in_the_go_tests_under_sim() -> None:
    env = {k: v for k, v in os.environ.items() if k != "RAFT_DEBUG"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--sim", "--sim-seeds=1-3", "-k",
                           "TestReElection2A or TestFailAgree2B or TestFigure82C",
                           "src/raft/test_raft.py"], cwd=ROOT, env=env, timeout=600,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    code, out = done.returncode, done.stdout
    assert code == 0, out[-3000:]
    assert "9 passed" in out, out[-3000:]


@pytest.mark.violations_expected
def test_the_harness_watches_every_cluster_with_both_rules() -> None:
    # Planted from outside: S7 (no peer of the cluster) sends AppendEntries of a
    # term it never won.
    import raft.raft as raft
    t = T(echo=False)
    cfg = make_config(t, 3, False)
    try:
        cfg.checkOneLeader()  # every peer is in term 1 or more
        end = cfg.net.MakeEnd("outsider")
        cfg.net.Connect("outsider", 0)
        cfg.net.label_end("outsider", src=7, src_life=1)
        cfg.net.Enable("outsider", True)
        assert end.Call("Raft.AppendEntries", raft.AppendEntriesArgs(Term=0, LeaderId=7),
                        raft.AppendEntriesReply())
    finally:
        cfg.cleanup(check=False)
    rules = [event["rule"] for event in cfg.record.of_kind("violation")]
    assert rules == ["a leader is elected by a majority"]
    graces = [rule.grace for monitors in cfg.record._subscribers
              for rule in getattr(monitors, "rules", ()) if isinstance(rule, ReplyTermAdopted)]
    assert graces == [reply_term_adopted.REAL_GRACE_S]  # in real time
