"""The rule for winning: a leader was granted votes by a majority in its term.

    attach(record, peers, report, note)   check every later event of record
                                          (monitors.recording attaches it
                                          beside monitors.rules)

Figure 2, Rules for Servers, Candidates: "If votes received from majority
of servers: become leader". A candidate that counts a reply from one of
its earlier elections (it never compares the reply's election with its
current one) can lead a term in which no majority voted for it. The
election-safety rule sees that only when a second leader of the same term
shows up; this rule sees every such win.

What the record proves. A vote counts for candidate C in term T when C's
own RequestVote of term T was answered VoteGranted and the reply reached C
(outcome "ok"), in the same incarnation of C. C leads T from its first
AppendEntries or InstallSnapshot of term T; by the time any such request
left, C must have had such replies from a majority, counting itself (a candidate
votes for itself). A reply reaches the record before its caller can act on
it (labrpc adds the event before Call returns), so no vote C could have
counted is missing. Replies with no VoteGranted field leave the rule
unchecked, said once.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Tuple

from labrpc.record import Record
from monitors.batched import BatchedRule
from monitors.traffic import fields, method_name, normalise

Event = Dict[str, Any]

RULE = "a leader is elected by a majority"
SOURCE = ("Figure 2, Rules for Servers, Candidates: if votes received from majority of "
          "servers, become leader (a vote counts in the election that asked for it)")


class LeaderVotes(BatchedRule):
    """The rule, fed one event at a time (a Record subscriber), checked in batches."""

    RULE = RULE
    SOURCE = SOURCE

    def __init__(self, record: Record, peers: int, report: Callable[[str], None],
                 note: Callable[[str], None]) -> None:
        super().__init__(record, report)
        self.n = peers
        self.note = note
        # (candidate, life, term) -> {voter: the reply event that granted it}
        self._granted: Dict[Tuple[Any, Any, int], Dict[Any, Event]] = {}

    def take(self, event: Event) -> None:
        if event["kind"] == "harness" and event.get("action") == "cleanup":
            self.stopped = True
        if event["kind"] != "rpc" or event.get("src") is None:
            return
        method = normalise(method_name(event))
        args = fields(event.get("args"))
        term = args.get("term")
        if not isinstance(term, int):
            return
        key = (event["src"], event.get("src_life"), term)
        if method == "requestvote":
            self._vote(event, key)
        elif method in ("appendentries", "installsnapshot"):
            self._led(event, key)

    def _vote(self, event: Event, key: Tuple[Any, Any, int]) -> None:
        if event.get("outcome") != "ok" or event.get("reply") is None:
            return
        reply = fields(event["reply"])
        if "votegranted" not in reply:
            self.stopped = True
            self.note(f"monitor: cannot check '{RULE}': RequestVote's reply has no "
                      "VoteGranted (Figure 2's name, any case, underscores ignored)")
            return
        if reply["votegranted"] and event.get("dst") != event["src"]:
            self._granted.setdefault(key, {}).setdefault(event.get("dst"), event)

    def _led(self, event: Event, key: Tuple[Any, Any, int]) -> None:
        leader, _, term = key
        sent = event["sent"]
        votes = [reply for reply in self._granted.get(key, {}).values() if reply["done"] < sent]
        if 2 * (1 + len(votes)) > self.n:
            return
        voters = ", ".join(f"S{reply.get('dst')}" for reply in votes) or "none"
        self.fail(f"S{leader} acted as leader of term {term} ({method_name(event)} to "
                  f"S{event.get('dst')} at t={sent:.3f} s) with votes from itself and "
                  f"{len(votes)} other peer(s) of {self.n} ({voters}) granted in term {term} "
                  f"by then: a majority needs {self.n // 2 + 1}",
                  [leader], term, [event] + votes)


def attach(record: Record, peers: int, report: Callable[[str], None],
           note: Callable[[str], None]) -> LeaderVotes:
    """Check every later event of record; see the module docstring."""
    monitor = LeaderVotes(record, peers, report, note)
    record.subscribe(monitor)
    return monitor
