"""currentTerm increases monotonically, and is persistent.

Each RPC shows two terms: the sender's in its args, the handler's in its
reply. A term is known to hold at some instant of an interval: the args'
between the sender's (re)start and the send (args may be built long before
they are sent), the reply's while the handler ran. A term goes backwards
when an interval that ends before another begins shows a higher term; two
intervals that overlap prove nothing. Across a restart only a reply's term
counts as the earlier one: a peer must persist before it answers, not
before it sends. A reply Term of 0 is a handler that never set it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Dict, Tuple

from monitors.rule import (APPEND_ENTRIES, INSTALL_SNAPSHOT, REQUEST_VOTE, START, Facts,
                           UNATTRIBUTED, Rule, life_of, peer_name, said, seconds)
from monitors.traffic import LIVE_HANDLER, Call, Event, method_name

ARGS = "args"
REPLY = "reply"


@dataclass(slots=True)
class Shown:
    """The earliest end of an interval in which a peer showed a term."""
    end: float
    event: Event


@dataclass(slots=True)
class LastShown:
    """The latest beginning of an interval in which a peer showed a term."""
    begin: float
    event: Event
    life: Any


class TermNeverGoesBackwards(Rule):
    name = "term never goes backwards"
    source = "Figure 2, State: currentTerm increases monotonically and is persistent"
    reads = (REQUEST_VOTE, APPEND_ENTRIES, INSTALL_SNAPSHOT, UNATTRIBUTED, START)

    def __init__(self, peers: int, note: Callable[[str], None], facts: Facts) -> None:
        super().__init__(peers, note, facts)
        self.life_began: Dict[Tuple[Any, Any], float] = {}
        # peer's terms by the end of the interval that showed them: in one
        # life, and in replies of any life
        self.ends_in_life: Dict[Tuple[Any, Any], Dict[int, Shown]] = defaultdict(dict)
        self.ends_of_replies: Dict[Any, Dict[int, Shown]] = defaultdict(dict)
        self.last_shown: Dict[Any, Dict[int, LastShown]] = defaultdict(dict)

    def on_harness(self, event: Event) -> None:
        self.life_began[(event.get("peer"), event.get("life", 0))] = event["t"]

    def on_call(self, call: Call) -> None:
        src, dst, event = call.src, call.dst, call.event
        if src is not None:
            life = event.get("src_life")
            begin = self.life_began.get((src, life), 0.0)
            self._observe(src, life, begin, call.sent, call.term, ARGS, event)
        term = call.reply_term
        if dst is not None and term is not None and term > 0 and call.outcome in LIVE_HANDLER:
            self._observe(dst, event.get("dst_life"), event["handled"], event["handler_done"],
                          term, REPLY, event)

    def _observe(self, peer: Any, life: Any, begin: float, end: float, term: int,
                 shown_in: str, event: Event) -> None:
        sent = shown_in == ARGS
        # Later than an earlier, higher term?
        for ends in (self.ends_in_life[(peer, life)], self.ends_of_replies[peer]):
            for higher, at in ends.items():
                if higher > term and at.end < begin:
                    raise self.broken(
                        f"{peer_name(peer)} {said(peer, at.event, higher)}, then "
                        f"{'sent' if sent else 'replied'} term {term} in {method_name(event)} "
                        f"at t={seconds(event['sent'] if sent else begin)}"
                        f"{_restart_between(peer, at.event, event)}",
                        [peer], higher, [at.event, event])
        # Earlier than a later, lower term?
        for lower, later in self.last_shown[peer].items():
            if lower < term and later.begin > end and (not sent or later.life == life):
                raise self.broken(
                    f"{peer_name(peer)} {'sent' if sent else 'replied'} term {term} in "
                    f"{method_name(event)} at t={seconds(end if sent else begin)}, then "
                    f"{said(peer, later.event, lower)}"
                    f"{_restart_between(peer, event, later.event)}",
                    [peer], term, [event, later.event])
        ends = self.ends_in_life[(peer, life)]
        if term not in ends or end < ends[term].end:
            ends[term] = Shown(end, event)
        if not sent:
            ends = self.ends_of_replies[peer]
            if term not in ends or end < ends[term].end:
                ends[term] = Shown(end, event)
        lasts = self.last_shown[peer]
        if term not in lasts or begin > lasts[term].begin:
            lasts[term] = LastShown(begin, event, life)


def _restart_between(peer: Any, first: Event, second: Event) -> str:
    lives = {life_of(first, peer), life_of(second, peer)}
    return " (across a restart: currentTerm must be persisted)" if len(lives) > 1 else ""
