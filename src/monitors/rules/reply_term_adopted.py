"""A peer that hears a higher term in a reply takes it at once.

    ReplyTermAdopted        the rule (monitors.rule's interface)
    stale_sends(events)     every request sent in an older term after a reply
                            had brought its sender a newer one:
                            [(lag, reply event, request event)]
    largest_lag(events)     the longest such lag, or 0.0 (for measuring)
    grace_s()               the lag a correct peer is allowed here:
                            SIM_GRACE_S under the simulation, REAL_GRACE_S
                            in real time

Figure 2, Rules for Servers, All Servers: "If RPC request or response
contains term T > currentTerm: set currentTerm = T, convert to follower".
A leader or candidate that ignores the term in a reply goes on sending
requests of its old term. The Go tests rarely notice: the new leader's
next heartbeat or a candidate's next RequestVote corrects the peer within
a few hundred milliseconds.

What the record proves. A reply event says when its caller got the reply
(`done`, outcome "ok") and the handler's term (the reply's Term). A request
the same incarnation of that peer sends afterwards carries its term at
some instant before the send: a correct peer may have built it before the
reply came and send it a moment later (the solution builds requests under
its lock and sends each from a new thread), and the thread that takes the
reply may itself wait for its turn. So a request of a lower term is
evidence only when it leaves more than a grace after the reply. A peer
restarted since the reply is a new incarnation (it may have crashed before
saving the term), and a crashed incarnation's later sends reach no one.

How long "a moment" is depends on the clock. Under the simulation (labsim)
a thread that can run runs within the modelled lateness of a few
milliseconds, so SIM_GRACE_S is short: the bug's lag (a heartbeat
interval, an election timeout) is far above it, the solution's far below.
In real time a loaded machine can leave a ready thread waiting for a second
or more, so REAL_GRACE_S is long: the rule is then weaker but never wrong.
docs/chaos.md gives the measured lags and their commands.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import labsim
from monitors.rule import (APPEND_ENTRIES, CRASH, INSTALL_SNAPSHOT, REQUEST_VOTE, Facts, Rule,
                           peer_name)
from monitors.traffic import Call, Event, method_name, read_call

# How long after a reply brought a newer term its receiver may still send a
# request of an older term (one built before the reply came): under the
# simulation, and in real time (see the module docstring).
SIM_GRACE_S = 0.050
REAL_GRACE_S = 5.0

_RAFT_METHODS = (REQUEST_VOTE, APPEND_ENTRIES, INSTALL_SNAPSHOT)

# A peer's incarnation: (peer, life).
Life = Tuple[Any, Any]
# A request of an older term: (its lag after the reply, the reply, the request).
Stale = Tuple[float, Event, Event]


def grace_s() -> float:
    """The grace for a record made now (under the simulation or not)."""
    return SIM_GRACE_S if labsim.active() is not None else REAL_GRACE_S


class _Terms:
    """What the replies told each incarnation, and the sends that ignored it."""

    def __init__(self) -> None:
        # (peer, life) -> replies that raised the highest term it was told,
        # in the order they came: (done, term, event); terms increase.
        self.told: Dict[Life, List[Tuple[float, int, Event]]] = {}
        self.crashed_at: Dict[Life, float] = {}

    def crashed(self, event: Event) -> None:
        self.crashed_at.setdefault((event.get("peer"), event.get("life")), event["t"])

    def call(self, call: Call) -> Optional[Stale]:
        """Note one of Figure 2's RPCs; the staleness of its request, if it is stale."""
        stale = None
        if call.src is not None and call.term is not None:
            stale = self._stale(call.event, call.term)
        if call.outcome == "ok" and call.src is not None and call.reply_term is not None:
            told = self.told.setdefault((call.src, call.event.get("src_life")), [])
            if not told or call.reply_term > told[-1][1]:
                told.append((call.event["done"], call.reply_term, call.event))
        return stale

    def _stale(self, event: Event, term: int) -> Optional[Stale]:
        life = (event["src"], event.get("src_life"))
        told = self.told.get(life)
        sent = event["sent"]
        if not told or sent >= self.crashed_at.get(life, float("inf")):
            return None
        # The earliest reply, before this send, that told of a newer term (the
        # record's order may differ from the replies' times by a little).
        first: Optional[Tuple[float, Event]] = None
        for done, newer, reply in told:
            if newer > term and done < sent and (first is None or done < first[0]):
                first = (done, reply)
        return None if first is None else (sent - first[0], first[1], event)


def stale_sends(events: Iterable[Event]) -> List[Stale]:
    """Every request sent in a term older than one a reply had already told
    its sender (same incarnation): (seconds after that reply, reply, request)."""
    terms = _Terms()
    found = []
    for event in events:
        kind = event["kind"]
        if kind == "harness" and event.get("action") == "crash":
            terms.crashed(event)
        elif kind == "rpc":
            call = read_call(event)
            if call.method in _RAFT_METHODS:
                stale = terms.call(call)
                if stale is not None:
                    found.append(stale)
        if kind == "harness" and event.get("action") == "cleanup":
            break
    return found


def largest_lag(events: Iterable[Event]) -> float:
    """The longest time a peer went on sending an older term after a reply
    told it of a newer one (0.0 if it never did)."""
    return max((lag for lag, _, _ in stale_sends(events)), default=0.0)


class ReplyTermAdopted(Rule):
    name = "adopt a higher term from a reply"
    source = ("Figure 2, Rules for Servers, All Servers: if RPC request or response contains "
              "term T > currentTerm, set currentTerm = T and convert to follower")
    reads = (REQUEST_VOTE, APPEND_ENTRIES, INSTALL_SNAPSHOT, CRASH)

    def __init__(self, peers: int, note: Callable[[str], None], facts: Facts) -> None:
        super().__init__(peers, note, facts)
        self.grace = grace_s()  # fixed when the record is made: real time or simulated
        self._terms = _Terms()

    def on_harness(self, event: Event) -> None:
        self._terms.crashed(event)

    def on_call(self, call: Call) -> None:
        stale = self._terms.call(call)
        if stale is None or stale[0] <= self.grace:
            return
        lag, reply, request = stale
        told = read_call(reply).reply_term
        src = request["src"]
        raise self.broken(
            f"{peer_name(src)} heard of term {told} in a reply to its {method_name(reply)} to "
            f"{peer_name(reply.get('dst'))} (t={reply['done']:.3f} s), yet sent "
            f"{method_name(request)} of term {call.term} to {peer_name(request.get('dst'))} "
            f"{lag:.3f} s later (t={request['sent']:.3f} s): a reply's newer term must be "
            "taken at once", [src], told, [reply, request])
