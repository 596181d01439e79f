"""Election Safety: at most one leader in a term.

Only a leader sends AppendEntries or InstallSnapshot (traffic.SENDER_ROLES),
so two peers that send them with the same Term both acted as its leader,
whatever became of the calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict

from monitors.rule import APPEND_ENTRIES, INSTALL_SNAPSHOT, Facts, Rule, peer_name, seconds
from monitors.traffic import Call, Event, method_name


@dataclass(slots=True)
class LeaderOfTerm:
    peer: Any
    event: Event    # its first AppendEntries or InstallSnapshot of the term


class ElectionSafety(Rule):
    name = "election safety"
    source = ("Figure 3, Election Safety: at most one leader in a term "
              "(only a leader sends AppendEntries, Figure 2)")
    reads = (APPEND_ENTRIES, INSTALL_SNAPSHOT)

    def __init__(self, peers: int, note: Callable[[str], None], facts: Facts) -> None:
        super().__init__(peers, note, facts)
        self.leaders: Dict[int, LeaderOfTerm] = {}

    def on_call(self, call: Call) -> None:
        first = self.leaders.get(call.term)
        if first is None:
            self.leaders[call.term] = LeaderOfTerm(call.src, call.event)
        elif first.peer != call.src:
            raise self.broken(
                f"{peer_name(first.peer)} and {peer_name(call.src)} both acted as leader in "
                f"term {call.term}: {peer_name(first.peer)} sent {method_name(first.event)} at "
                f"t={seconds(first.event['sent'])}, {peer_name(call.src)} sent "
                f"{method_name(call.event)} at t={seconds(call.sent)}",
                [first.peer, call.src], call.term, [first.event, call.event])
