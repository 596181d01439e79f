"""Raft's rules, checked on the run's record as it grows: one module a rule.

    mon = attach(record, peers, report, note)
        record   a labrpc.record.Record (the harness's cfg.record)
        peers    how many peers the cluster has
        report   report(message): called once, at the first violation (the
                 harness passes t.fail_later); a "violation" event is added too
        note     note(line): a rule that cannot be checked says why, once
    record.flush()  -- check the events the monitors hold (they check in
                       batches of BATCH_EVENTS, and at a test's end; the
                       harness flushes whenever its T looks for failures)
    RULES       the rules, in the order each event is checked against them
    SOURCES     each rule's name -> where the paper (or the assignment) writes it

The rules, each with its source in its module:
    term_never_goes_backwards   Figure 2, State: currentTerm
    election_safety             Figure 3, Election Safety
    one_vote_per_term           Figure 2, RequestVote RPC, receiver 2
    stale_term_rejected         Figure 2, RequestVote/AppendEntries RPC, receiver 1
    commit_needs_a_majority     Figure 2, Rules for Servers, Leaders
    commit_only_current_term    Figure 2, Rules for Servers, Leaders (Figure 8)
    heartbeat_rate              the assignment's ten heartbeats a second
    follower_commit_bound       Figure 2, AppendEntries RPC, receiver 5
    reply_term_adopted          Figure 2, Rules for Servers, All Servers (a
                                reply's higher term); also stale_sends and
                                largest_lag(events), for measuring
    leader_has_a_majority       Figure 2, Rules for Servers, Candidates
    commits                     what two of them read: the indexes a leader
                                committed during its term

Every rule reads only what the network and the harness saw (monitors.traffic)
and is sound: it fires only on evidence that the rule was broken, never on
a guess. docs/monitors.md says why each one is, and what it cannot see.
"""

from __future__ import annotations

from typing import Callable, Dict, Tuple, Type

from labrpc.record import Record
from monitors.dispatch import BATCH_EVENTS, Monitors
from monitors.rule import Rule
from monitors.rules.commit_needs_a_majority import CommitNeedsAMajority
from monitors.rules.commit_only_current_term import CommitOnlyCurrentTermEntries
from monitors.rules.election_safety import ElectionSafety
from monitors.rules.follower_commit_bound import FollowerCommitBound
from monitors.rules.heartbeat_rate import HeartbeatRate
from monitors.rules.leader_has_a_majority import LeaderHasAMajority
from monitors.rules.one_vote_per_term import OneVotePerTerm
from monitors.rules.reply_term_adopted import ReplyTermAdopted
from monitors.rules.stale_term_rejected import StaleTermRejected
from monitors.rules.term_never_goes_backwards import TermNeverGoesBackwards

__all__ = ["attach", "RULES", "SOURCES", "BATCH_EVENTS", "Monitors"]

RULES: Tuple[Type[Rule], ...] = (
    TermNeverGoesBackwards, ElectionSafety, OneVotePerTerm, StaleTermRejected,
    CommitNeedsAMajority, CommitOnlyCurrentTermEntries, HeartbeatRate, FollowerCommitBound,
    ReplyTermAdopted, LeaderHasAMajority,
)

SOURCES: Dict[str, str] = {rule.name: rule.source for rule in RULES}


def attach(record: Record, peers: int, report: Callable[[str], None],
           note: Callable[[str], None]) -> Monitors:
    """Check every later event of record; see the module docstring."""
    monitors = Monitors(record, peers, report, note, RULES)
    record.subscribe(monitors)
    return monitors
