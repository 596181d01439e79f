"""What a rule is: a name, where it is written, the events it reads, how it says it broke.

    class OneVotePerTerm(Rule):
        name = "one vote per term"
        source = "Figure 2, RequestVote RPC, receiver 2; ..."
        reads = (REQUEST_VOTE,)
        def on_call(self, call): ...  raise self.broken(message, peers, term, evidence)

    rule = OneVotePerTerm(peers, note, facts)
        peers   how many peers the cluster has
        note    note(line), for self.cannot(what): said once, when the rule
                cannot be checked for lack of a field
        facts   what more than one rule reads, worked out once for all of
                them (a dict of one object per class; rules.commits)

What a rule reads (Rule.reads), and the handler each kind goes to:
    REQUEST_VOTE    on_call(call): a RequestVote (a traffic.Call)
    APPEND_ENTRIES, INSTALL_SNAPSHOT   on_call(call): that RPC, sent by a
            known peer (it shows that peer leading the args' term)
    UNATTRIBUTED    on_call(call): an AppendEntries or InstallSnapshot sent on
            an end no peer owns (it shows no leader)
    Every call handed to a rule has a numeric Term in its args: one without
    is no rule's evidence (the dispatcher says so, once).
    START, APPLY, CRASH    on_harness(event): the harness (re)started a peer;
            the tester took an applied command or snapshot from a peer's
            applyCh; the harness crashed a peer
    EVERY_EVENT     on_time(t): after each event, its time (rules that wait)

The dispatcher (monitors.dispatch) hands each rule the events it reads, in
the record's order; the first Violation raised stops every rule.
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar, Dict, List, Optional, Tuple

from monitors.traffic import (APPEND_ENTRIES, INSTALL_SNAPSHOT, REQUEST_VOTE, Call, Event,
                              method_name)

__all__ = ["Rule", "Violation", "Facts", "REQUEST_VOTE", "APPEND_ENTRIES", "INSTALL_SNAPSHOT",
           "UNATTRIBUTED", "START", "APPLY", "CRASH", "EVERY_EVENT", "CALL_KINDS",
           "HARNESS_KINDS",
           "peer_name", "seconds", "said", "life_of"]

UNATTRIBUTED = "unattributed"
START = "harness start"
APPLY = "harness apply"
CRASH = "harness crash"
EVERY_EVENT = "every event"
CALL_KINDS = (REQUEST_VOTE, APPEND_ENTRIES, INSTALL_SNAPSHOT, UNATTRIBUTED)
# What more than one rule of a run reads: one object per class (see rules.commits).
Facts = Dict[type, Any]
# The harness's action of each kind (the event's "action" field).
HARNESS_KINDS = {START: "start", APPLY: "apply", CRASH: "crash"}


class Violation(Exception):
    """A rule broken, with the peers, the term and the events that show it."""

    def __init__(self, rule: "Rule", message: str, peers: List[Any], term: Any,
                 evidence: List[Event]) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.peers = peers
        self.term = term
        self.evidence = evidence


class Rule:
    """One of Raft's rules, checked on the events it reads."""

    name: ClassVar[str]
    source: ClassVar[str]       # where the paper (or the assignment) writes it
    reads: ClassVar[Tuple[str, ...]]

    def __init__(self, peers: int, note: Callable[[str], None], facts: Facts) -> None:
        self.peers = peers
        self._note: Optional[Callable[[str], None]] = note

    def on_call(self, call: Call) -> None:
        """A call of a kind in self.reads."""

    def on_harness(self, event: Event) -> None:
        """A harness event of a kind in self.reads."""

    def on_time(self, now: float) -> None:
        """The time of the event just handled (EVERY_EVENT)."""

    def broken(self, message: str, peers: List[Any], term: Any,
               evidence: List[Event]) -> Violation:
        """The Violation to raise: this rule, broken as message says."""
        return Violation(self, message, peers, term, evidence)

    def cannot(self, what: str) -> None:
        """Say once that the rule cannot be checked, and why (a field it needs lacks)."""
        if self._note is not None:
            self._note(f"monitor: cannot check '{self.name}': {what} (Figure 2's name, "
                       "any case, underscores ignored)")
            self._note = None


def peer_name(value: Any) -> str:
    return f"S{value}"


def seconds(t: Optional[float]) -> str:
    return "?" if t is None else f"{t:.3f} s"


def said(peer: Any, event: Event, term: int) -> str:
    """What peer's RPC event showed of its term, for a message."""
    if event.get("src") == peer:
        return f"sent term {term} in {method_name(event)} at t={seconds(event['sent'])}"
    return f"replied term {term} in {method_name(event)} at t={seconds(event['handled'])}"


def life_of(event: Event, peer: Any) -> Any:
    """Which incarnation of peer an RPC event shows (as its sender or its handler)."""
    return event.get("src_life") if event.get("src") == peer else event.get("dst_life")
