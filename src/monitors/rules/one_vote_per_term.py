"""One vote per term: a peer grants its vote to at most one candidate in a term.

A candidate votes for itself: a peer that sent RequestVote in a term (in
one incarnation) may grant no other candidate its vote in that term, in
that incarnation. votedFor is persistent, so two grants in one term count
across restarts too. Only grants whose handler finished while its server
was alive count (traffic.LIVE_HANDLER): one that a crashed instance gave
after its crash was never persisted in the persister the restart reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, Tuple

from monitors.rule import REQUEST_VOTE, Facts, Rule, life_of, peer_name, seconds
from monitors.traffic import LIVE_HANDLER, Call, Event


@dataclass(slots=True)
class Vote:
    candidate: Any
    event: Event    # the RequestVote that shows it: the grant, or the candidate's own ask


@dataclass(slots=True)
class Campaign:
    """A peer's first RequestVote of a term: it voted for itself in that term."""
    life: Any
    event: Event


class OneVotePerTerm(Rule):
    name = "one vote per term"
    source = "Figure 2, RequestVote RPC, receiver 2; votedFor is persistent state"
    reads = (REQUEST_VOTE,)

    def __init__(self, peers: int, note: Callable[[str], None], facts: Facts) -> None:
        super().__init__(peers, note, facts)
        self.votes: Dict[Tuple[Any, int], Vote] = {}          # (voter, term) -> first grant
        self.campaigns: Dict[Tuple[Any, int], Campaign] = {}  # (candidate, term)

    def on_call(self, call: Call) -> None:
        src, dst, term, event = call.src, call.dst, call.term, call.event
        if src is not None:
            mine = self.campaigns.setdefault((src, term), Campaign(event.get("src_life"), event))
            given = self.votes.get((src, term))
            if given is not None and given.candidate != src and \
                    given.event.get("dst_life") == mine.life:
                self._two_votes(src, term, Vote(src, mine.event), given)
        reply = call.reply
        if reply is None or call.outcome not in LIVE_HANDLER:
            return
        if "votegranted" not in reply:
            self.cannot("RequestVote's reply has no VoteGranted")
            return
        if not reply["votegranted"]:
            return
        candidate = src if src is not None else call.args.get("candidateid")
        granted = Vote(candidate, event)
        first = self.votes.setdefault((dst, term), granted)
        if first.candidate != candidate:
            self._two_votes(dst, term, first, granted)
        mine = self.campaigns.get((dst, term))
        if mine is not None and mine.life == event.get("dst_life") and candidate != dst:
            self._two_votes(dst, term, Vote(dst, mine.event), granted)

    def _two_votes(self, voter: Any, term: int, first: Vote, second: Vote) -> None:
        def shown(vote: Vote) -> str:
            if vote.candidate == voter:
                return f"itself (it asked for votes at t={seconds(vote.event['sent'])})"
            return f"{peer_name(vote.candidate)} (t={seconds(vote.event['handled'])})"
        lives = {life_of(first.event, voter), life_of(second.event, voter)}
        across = " (across a restart: votedFor must be persisted)" if len(lives) > 1 else ""
        raise self.broken(
            f"{peer_name(voter)} voted for {shown(first)} and for {shown(second)} "
            f"in term {term}{across}",
            [voter, first.candidate, second.candidate], term, [first.event, second.event])
