"""A follower commits no further than min(leaderCommit, index of last new entry).

A peer that has not been leader in this incarnation may apply index N
only if something allowed it before: an AppendEntries it accepted
(min(LeaderCommit, PrevLogIndex + len(Entries))), an InstallSnapshot, or
the snapshot it restarted from. Skipped if an AppendEntries or
InstallSnapshot reached it whose reply no one saw (its caller stopped
waiting: the handler may have allowed N). Checked SETTLE_S after the
apply, once every reply that could show support has come back.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Tuple

from monitors.rule import (APPEND_ENTRIES, APPLY, EVERY_EVENT, INSTALL_SNAPSHOT, START, Facts,
                           Rule, peer_name, seconds)
from monitors.traffic import Call, Event

# A reply comes back at most 2.2 s after its handler (long reordering), so
# 5 s after an apply every reply that could support it has come back.
SETTLE_S = 5.0

Life = Tuple[Any, Any]  # (peer, its incarnation)


@dataclass(slots=True)
class Support:
    """An accepted AppendEntries or InstallSnapshot: commits allowed through bound."""
    handled: float
    bound: int
    event: Event


@dataclass(slots=True)
class PendingApply:
    """An apply that nothing seen yet allowed."""
    at: float
    peer: Any
    life: Any
    index: int
    event: Event


class FollowerCommitBound(Rule):
    name = "follower commit bound"
    source = ("Figure 2, AppendEntries RPC, receiver 5: commitIndex = "
              "min(leaderCommit, index of last new entry)")
    reads = (APPEND_ENTRIES, INSTALL_SNAPSHOT, START, APPLY, EVERY_EVENT)

    def __init__(self, peers: int, note: Callable[[str], None], facts: Facts) -> None:
        super().__init__(peers, note, facts)
        self.life: Dict[Any, Any] = {}                  # peer -> its current incarnation
        self.snapshot_at_start: Dict[Life, int] = {}
        self.support: Dict[Life, List[Support]] = defaultdict(list)
        self.led_from: Dict[Life, float] = {}           # its first send as a leader
        # the earliest send of an AppendEntries or InstallSnapshot whose
        # handler ran unseen (its caller stopped waiting)
        self.unseen: Dict[Life, float] = {}
        self.pending: List[PendingApply] = []

    def on_harness(self, event: Event) -> None:
        peer = event.get("peer")
        if event.get("action") == "start":
            life = event.get("life", 0)
            self.life[peer] = life
            self.snapshot_at_start[(peer, life)] = event.get("snapshot_index") or 0
        elif event.get("index") is not None:
            self._applied(event)

    def on_call(self, call: Call) -> None:
        event = call.event
        self.led_from.setdefault((call.src, event.get("src_life")), call.sent)
        reply = call.reply
        handler = (call.dst, event.get("dst_life"))
        if reply is None:
            if event.get("delivered"):
                self.unseen[handler] = min(self.unseen.get(handler, call.sent), call.sent)
            return
        if call.method == APPEND_ENTRIES:
            log = call.log
            if log is None or not reply.get("success"):
                return
            self._supported(handler, Support(call.handled, min(
                log.leader_commit, log.prev_index + len(log.entries)), event))
        else:
            index = call.args.get("lastincludedindex")
            if index is not None:
                self._supported(handler, Support(call.handled, index, event))

    def on_time(self, now: float) -> None:
        while self.pending and self.pending[0].at + SETTLE_S < now:
            self._settle(self.pending.pop(0))

    def _applied(self, event: Event) -> None:
        if self.peers == 1:
            return  # a lone peer is its own majority: it commits without RPCs
        peer, index = event.get("peer"), event["index"]
        life = event.get("life", self.life.get(peer))
        if index <= self.snapshot_at_start.get((peer, life), 0):
            return
        at = event["t"]
        if self._led_before((peer, life), at):
            return  # a leader commits by its own rules, which the other rules check
        if any(support.handled < at and support.bound >= index
               for support in reversed(self.support.get((peer, life), ()))):
            return
        self.pending.append(PendingApply(at, peer, life, index, event))

    def _led_before(self, handler: Life, at: float) -> bool:
        led = self.led_from.get(handler)
        return led is not None and led < at

    def _supported(self, handler: Life, support: Support) -> None:
        self.support[handler].append(support)
        if self.pending:
            peer, life = handler
            self.pending = [
                pending for pending in self.pending
                if not (pending.peer == peer and pending.life == life
                        and support.handled < pending.at and support.bound >= pending.index)]

    def _settle(self, pending: PendingApply) -> None:
        handler = (pending.peer, pending.life)
        if self._led_before(handler, pending.at):
            return  # a send as leader from before the apply came back after it
        unseen = self.unseen.get(handler)
        if unseen is not None and unseen < pending.at:
            return  # a handler ran that no reply showed: it may have allowed it
        bound = max([support.bound for support in self.support.get(handler, ())
                     if support.handled < pending.at],
                    default=self.snapshot_at_start.get(handler, 0))
        raise self.broken(
            f"{peer_name(pending.peer)} applied index {pending.index} at "
            f"t={seconds(pending.at)}, but the AppendEntries it had accepted allowed it to "
            f"commit only through index {bound}",
            [pending.peer], None, [pending.event])
