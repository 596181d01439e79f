"""The rule for replies: a peer that hears a higher term in a reply takes it.

    attach(record, peers, report, note)   check every later event of record
                                          (monitors.recording attaches it
                                          beside monitors.rules)
    stale_sends(events)                   every request sent in an older term
                                          after a reply had brought its sender
                                          a newer one: (lag, reply, request)
    largest_lag(events)                   the longest such lag, or 0.0
    grace_s()                             the lag a correct peer is allowed here:
                                          SIM_GRACE_S under the simulation,
                                          REAL_GRACE_S in real time

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
from labrpc.record import Record
from monitors.batched import BatchedRule
from monitors.traffic import fields, method_name, normalise

Event = Dict[str, Any]

RULE = "adopt a higher term from a reply"
SOURCE = ("Figure 2, Rules for Servers, All Servers: if RPC request or response contains "
          "term T > currentTerm, set currentTerm = T and convert to follower")

# How long after a reply brought a newer term its receiver may still send a
# request of an older term (one built before the reply came): under the
# simulation, and in real time (see the module docstring).
SIM_GRACE_S = 0.050
REAL_GRACE_S = 5.0


def grace_s() -> float:
    """The grace for a record made now (under the simulation or not)."""
    return SIM_GRACE_S if labsim.active() is not None else REAL_GRACE_S


_RAFT_METHODS = ("requestvote", "appendentries", "installsnapshot")

# A peer's incarnation: (peer, life).
Life = Tuple[Any, Any]


class _Terms:
    """What the replies told each incarnation, and the sends that ignored it."""

    def __init__(self) -> None:
        # (peer, life) -> replies that raised the highest term it was told,
        # in the order they came: (done, term, event); terms increase.
        self.told: Dict[Life, List[Tuple[float, int, Event]]] = {}
        self.crashed_at: Dict[Life, float] = {}
        self.stopped = False

    def take(self, event: Event) -> Optional[Tuple[float, Event, Event]]:
        """Note event; for a stale request: (its lag, the reply, the request)."""
        kind = event["kind"]
        if kind == "harness":
            action = event.get("action")
            if action == "crash":
                self.crashed_at.setdefault((event.get("peer"), event.get("life")), event["t"])
            elif action == "cleanup":
                self.stopped = True
            return None
        if kind != "rpc" or self.stopped or normalise(method_name(event)) not in _RAFT_METHODS:
            return None
        args = fields(event.get("args"))
        term = args.get("term")
        stale = None
        if event.get("src") is not None and isinstance(term, int):
            stale = self._stale(event, term)
        if event.get("outcome") == "ok" and event.get("reply") is not None:
            self._told(event)
        return stale

    def _stale(self, event: Event, term: int) -> Optional[Tuple[float, Event, Event]]:
        life = (event["src"], event.get("src_life"))
        told = self.told.get(life)
        sent = event["sent"]
        if not told or sent >= self.crashed_at.get(life, float("inf")):
            return None
        # The earliest reply, before this send, that told of a newer term.
        first = None
        for done, newer, reply in told:
            if newer > term and done < sent and (first is None or done < first[0]):
                first = (done, reply)
        if first is None:
            return None
        return sent - first[0], first[1], event

    def _told(self, event: Event) -> None:
        reply_term = fields(event["reply"]).get("term")
        if event.get("src") is None or not isinstance(reply_term, int):
            return
        told = self.told.setdefault((event["src"], event.get("src_life")), [])
        if not told or reply_term > told[-1][1]:
            told.append((event["done"], reply_term, event))


def stale_sends(events: Iterable[Event]) -> List[Tuple[float, Event, Event]]:
    """Every request sent in a term older than one a reply had already told
    its sender (same incarnation): (seconds after that reply, reply, request)."""
    terms = _Terms()
    found = []
    for event in events:
        stale = terms.take(event)
        if stale is not None:
            found.append(stale)
    return found


def largest_lag(events: Iterable[Event]) -> float:
    """The longest time a peer went on sending an older term after a reply
    told it of a newer one (0.0 if it never did)."""
    return max((lag for lag, _, _ in stale_sends(events)), default=0.0)


class ReplyTerms(BatchedRule):
    """The rule, fed one event at a time (a Record subscriber), checked in batches."""

    RULE = RULE
    SOURCE = SOURCE

    def __init__(self, record: Record, report: Callable[[str], None], grace: float) -> None:
        super().__init__(record, report)
        self.grace = grace
        self._terms = _Terms()

    def take(self, event: Event) -> None:
        stale = self._terms.take(event)
        if stale is not None and stale[0] > self.grace:
            lag, reply, request = stale
            told = fields(reply["reply"])["term"]
            sent = fields(request["args"])["term"]
            self.fail(f"S{request['src']} heard of term {told} in a reply to its "
                      f"{method_name(reply)} to S{reply.get('dst')} (t={reply['done']:.3f} s), "
                      f"yet sent {method_name(request)} of term {sent} to S{request.get('dst')} "
                      f"{lag:.3f} s later (t={request['sent']:.3f} s): a reply's newer term "
                      f"must be taken at once", [request["src"]], told, [reply, request])


def attach(record: Record, peers: int, report: Callable[[str], None],
           note: Callable[[str], None], grace: Optional[float] = None) -> ReplyTerms:
    """Check every later event of record (peers and note: the rules' interface),
    with grace (default: grace_s())."""
    monitor = ReplyTerms(record, report, grace_s() if grace is None else grace)
    record.subscribe(monitor)
    return monitor
