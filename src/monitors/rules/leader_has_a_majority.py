"""A leader was granted votes by a majority in its term.

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
left, C must have had such replies from a majority, counting itself (a
candidate votes for itself). A reply reaches the record before its caller
can act on it (labrpc adds the event before Call returns), so no vote C
could have counted is missing. Replies with no VoteGranted field leave the
rule unchecked, said once.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Tuple

from monitors.rule import (APPEND_ENTRIES, INSTALL_SNAPSHOT, REQUEST_VOTE, Facts, Rule,
                           peer_name)
from monitors.traffic import Call, Event, method_name

# (candidate, its incarnation, term)
Election = Tuple[Any, Any, int]


class LeaderHasAMajority(Rule):
    name = "a leader is elected by a majority"
    source = ("Figure 2, Rules for Servers, Candidates: if votes received from majority of "
              "servers, become leader (a vote counts in the election that asked for it)")
    reads = (REQUEST_VOTE, APPEND_ENTRIES, INSTALL_SNAPSHOT)

    def __init__(self, peers: int, note: Callable[[str], None], facts: Facts) -> None:
        super().__init__(peers, note, facts)
        # election -> {voter: the reply event that granted it}
        self._granted: Dict[Election, Dict[Any, Event]] = {}
        self._unchecked = False

    def on_call(self, call: Call) -> None:
        if call.src is None or self._unchecked:
            return
        election = (call.src, call.event.get("src_life"), call.term)
        if call.method == REQUEST_VOTE:
            self._vote(call, election)
        else:
            self._led(call, election)

    def _vote(self, call: Call, election: Election) -> None:
        reply = call.reply
        if call.outcome != "ok" or reply is None:
            return
        if "votegranted" not in reply:
            # No vote can be counted: every leader would look elected by none.
            self._unchecked = True
            self.cannot("RequestVote's reply has no VoteGranted")
            return
        if reply["votegranted"] and call.dst != call.src:
            self._granted.setdefault(election, {}).setdefault(call.dst, call.event)

    def _led(self, call: Call, election: Election) -> None:
        leader, _, term = election
        votes = [reply for reply in self._granted.get(election, {}).values()
                 if reply["done"] < call.sent]
        if 2 * (1 + len(votes)) > self.peers:
            return
        voters = ", ".join(peer_name(reply.get("dst")) for reply in votes) or "none"
        raise self.broken(
            f"{peer_name(leader)} acted as leader of term {term} ({method_name(call.event)} to "
            f"{peer_name(call.dst)} at t={call.sent:.3f} s) with votes from itself and "
            f"{len(votes)} other peer(s) of {self.peers} ({voters}) granted in term {term} by "
            f"then: a majority needs {self.peers // 2 + 1}",
            [leader], term, [call.event] + votes)
