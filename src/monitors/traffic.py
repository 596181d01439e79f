"""What one RPC of the record shows, read under Figure 2's field names.

The monitors' rules and the timeline (labtools.timeline_model) both read
the traffic here, so both see the same fields and the same roles.

    fields(value)       an args or reply dict keyed by Figure 2's names
                        normalised: any case, underscores ignored
                        ({"Term": 3, "vote_granted": 1} -> {"term": 3, "votegranted": 1})
    call = read_call(event)   the Call of an "rpc" event
        call.term, call.reply_term   the sender's and the handler's terms
        call.log        AppendEntries' PrevLogIndex, PrevLogTerm, Entries,
                        LeaderCommit (a LogFields), or None
        call.sender_role    the role the sender shows by sending it (LEADER
                        for AppendEntries and InstallSnapshot, CANDIDATE for
                        RequestVote, None for a method not of Figure 2)
    sightings(call)     what the call shows of its two peers' roles and terms:
                        [Sighting(at, peer, role, term)], role one of LEADER,
                        CANDIDATE, FOLLOWER, IN_TERM, FOLLOWS

Who sent what to whom is the network's own knowledge (the event's src and
dst), never the args' CandidateId or LeaderId.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

Event = Dict[str, Any]

# The three RPCs of Figure 2, by their normalised names.
REQUEST_VOTE = "requestvote"
APPEND_ENTRIES = "appendentries"
INSTALL_SNAPSHOT = "installsnapshot"

LEADER = "leader"
CANDIDATE = "candidate"
FOLLOWER = "follower"
# A handler answered in its term (its reply's Term), whatever its role.
IN_TERM = "in term"
# A handler answered its term's leader (AppendEntries or InstallSnapshot of
# the handler's own term): it follows that leader.
FOLLOWS = "follows"

# Figure 2: only a leader sends AppendEntries (and InstallSnapshot, section
# 7); a candidate sends RequestVote.
SENDER_ROLES = {REQUEST_VOTE: CANDIDATE, APPEND_ENTRIES: LEADER, INSTALL_SNAPSHOT: LEADER}

# Outcomes of a call after which the handler's effects stand: it finished
# while its server was alive (labrpc checks that before it drops a reply).
LIVE_HANDLER = ("ok", "reply_dropped")


@functools.lru_cache(maxsize=1024)
def normalise(name: str) -> str:
    """A field or method name as Figure 2's names are compared: no case, no underscores."""
    return name.replace("_", "").lower()


# The normalised names of a field-name tuple: an RPC's args of one type have
# the same keys every time, so each shape is normalised once.
_shapes: Dict[Tuple[str, ...], Tuple[str, ...]] = {}


def fields(value: Any) -> Dict[str, Any]:
    """An args or reply dict keyed by normalised names ({} for anything else)."""
    if not isinstance(value, dict):
        return {}
    keys = tuple(value)
    names = _shapes.get(keys)
    if names is None:
        if len(_shapes) > 4096:  # a run of ever-new shapes: keep memory bounded
            _shapes.clear()
        names = _shapes[keys] = tuple(normalise(str(key)) for key in keys)
    return dict(zip(names, value.values()))


@functools.lru_cache(maxsize=256)
def _method_of(method: Any) -> str:
    return normalise(str(method).rpartition(".")[2])


def method_name(event: Event) -> str:
    """The call's method as the student named it, without its service: "AppendEntries"."""
    return str(event.get("method", "")).rpartition(".")[2]


@dataclass(slots=True)
class LogFields:
    """What an AppendEntries says of its sender's log (Figure 2's args)."""
    prev_index: Any
    prev_term: Any
    entries: List[Any]
    leader_commit: Any


LOG_FIELD_NAMES = ("prevlogindex", "prevlogterm", "entries", "leadercommit")


def log_fields(args: Dict[str, Any]) -> Optional[LogFields]:
    """AppendEntries' log fields from normalised args; None if one lacks or Entries is no list."""
    try:
        log = LogFields(args["prevlogindex"], args["prevlogterm"], args["entries"],
                        args["leadercommit"])
    except KeyError:
        return None
    return log if isinstance(log.entries, list) else None


@dataclass(slots=True)
class Call:
    """One RPC of the record, its args and reply keyed by normalised names."""
    event: Event
    method: str                 # normalised: REQUEST_VOTE, APPEND_ENTRIES, INSTALL_SNAPSHOT, ...
    src: Any                    # None: an end no peer owns
    dst: Any
    sent: float
    handled: Optional[float]    # None: the handler never ran, or no one saw it end
    outcome: str
    args: Dict[str, Any]
    reply: Optional[Dict[str, Any]]
    term: Optional[int]         # the args' Term (None: absent or not a number)
    reply_term: Optional[int]
    log: Optional[LogFields]    # AppendEntries only
    sender_role: Optional[str]  # what src shows itself to be by sending it (SENDER_ROLES)


def read_call(event: Event) -> Call:
    """The Call of an "rpc" event (its sender_role None for a method not of Figure 2)."""
    method = _method_of(event.get("method", ""))
    args = fields(event.get("args"))
    term = args.get("term")
    reply = event.get("reply")
    reply_term = None
    if reply is not None:
        reply = fields(reply)
        reply_term = reply.get("term")
        if type(reply_term) is not int:  # a bool is no term
            reply_term = None
    return Call(event, method, event.get("src"), event.get("dst"), event["sent"],
                event.get("handled"), event["outcome"], args, reply,
                term if type(term) is int else None,  # a bool is no term
                reply_term, log_fields(args) if method == APPEND_ENTRIES else None,
                SENDER_ROLES.get(method))


class Sighting(NamedTuple):
    """A moment at which a peer showed its role in a term."""
    at: float
    peer: Any
    role: str       # LEADER, CANDIDATE, FOLLOWER (took a newer term from a reply), IN_TERM, FOLLOWS
    term: int


def sightings(call: Call) -> List[Sighting]:
    """What the call shows of its peers' roles, in the order it happened.

    The sender shows its role (SENDER_ROLES) in the args' term when it
    sends; a reply of a newer term, once back, makes it a follower of that
    term. The handler shows its term while it runs; answering a leader's
    message of that same term, it follows that leader.
    """
    seen: List[Sighting] = []
    asked, answered = call.term, call.reply_term
    if call.src is not None and asked is not None:
        if call.sender_role is not None:
            seen.append(Sighting(call.sent, call.src, call.sender_role, asked))
        if call.outcome == "ok" and answered is not None and answered > asked:
            seen.append(Sighting(call.event["done"], call.src, FOLLOWER, answered))
    if call.dst is not None and answered is not None and call.handled is not None:
        follows = call.sender_role == LEADER and asked == answered
        seen.append(Sighting(call.handled, call.dst, FOLLOWS if follows else IN_TERM, answered))
    return seen
