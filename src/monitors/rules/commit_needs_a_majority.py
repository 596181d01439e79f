"""A leader commits index N only when a majority of matchIndex[i] >= N.

An index a leader committed during its term (rules.commits) must be held,
by the time the leader sent it as LeaderCommit, by a majority counting the
leader: followers whose answers to the leader had shown they held it (a
Success reply to an AppendEntries through N, or an InstallSnapshot through
N, of that term, received before the send).
"""

from __future__ import annotations

import bisect
import operator
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Tuple

from monitors.rule import APPEND_ENTRIES, INSTALL_SNAPSHOT, Facts, Rule, peer_name, seconds
from monitors.rules.commits import CommitsOfTerms
from monitors.traffic import LOG_FIELD_NAMES, Call, Event


@dataclass(slots=True)
class Ack:
    """A follower's answer showing it held the leader's log through index."""
    t: float        # the answer's record time: before the leader's Call returned
    index: int      # the highest shown so far
    event: Event


ACK_TIME = operator.attrgetter("t")


class CommitNeedsAMajority(Rule):
    name = "commit needs a majority"
    source = "Figure 2, Rules for Servers, Leaders: commit N when a majority of matchIndex[i] >= N"
    reads = (APPEND_ENTRIES, INSTALL_SNAPSHOT)

    def __init__(self, peers: int, note: Callable[[str], None], facts: Facts) -> None:
        super().__init__(peers, note, facts)
        self.acks: Dict[Tuple[Any, int, Any], List[Ack]] = defaultdict(list)
        self.commits = CommitsOfTerms.shared(facts)

    def on_call(self, call: Call) -> None:
        if call.method == APPEND_ENTRIES:
            log = call.log
            if log is None:
                if not all(name in call.args for name in LOG_FIELD_NAMES):
                    self.cannot("AppendEntries' args lack one of PrevLogIndex, PrevLogTerm, "
                                "Entries, LeaderCommit")
                return
            reply = call.reply
            if reply is not None and reply.get("success") and call.outcome == "ok":
                self._ack(call, log.prev_index + len(log.entries))
            committed = self.commits.committed(call.src, call.term, log.leader_commit, call.event)
            for index, carried in committed:
                self._check(call.src, call.term, index, carried.sent, carried.event)
        else:
            index = call.args.get("lastincludedindex")
            if index is not None and call.reply is not None and call.outcome == "ok" and \
                    (call.reply_term or 0) <= call.term:
                self._ack(call, index)

    def _ack(self, call: Call, index: int) -> None:
        acks = self.acks[(call.src, call.term, call.dst)]
        acks.append(Ack(call.event["t"], max(index, acks[-1].index) if acks else index,
                        call.event))

    def _check(self, leader: Any, term: int, index: int, sent: float, event: Event) -> None:
        holders = [leader]
        evidence = [event]
        for follower in range(self.peers):
            acks = self.acks.get((leader, term, follower))
            if follower == leader or not acks:
                continue
            at = bisect.bisect_left(acks, sent, key=ACK_TIME) - 1
            if at >= 0 and acks[at].index >= index:
                holders.append(follower)
                evidence.append(acks[at].event)
        if 2 * len(holders) <= self.peers:
            raise self.broken(
                f"{peer_name(leader)} told followers index {index} was committed "
                f"(LeaderCommit {index}, t={seconds(sent)}) in term {term}, but only "
                f"{', '.join(map(peer_name, holders))} had acknowledged holding it by then "
                f"({len(holders)} of {self.peers})",
                holders, term, evidence)
