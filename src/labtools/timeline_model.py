"""What the timeline page draws, worked out from a run's record.

    check_events(events)          raise RecordError naming the first bad event
    roles(events, peers, t_end)   [Band(peer, t0, t1, role, term), ...]: who led, ran, followed
    page_data(events)             the page's data: lanes, RPCs, shades, marks, logs

A record is a list of event dicts (seq, t, kind, ...) as the run's record
(labrpc.record) makes them: meta, rpc, harness, log, violation, and under
labsim's shrinker departure (a choice other than the calm run's, marked on the
lane of the peer it names). Roles are not in the record; they are read from
the traffic as the monitors read it (monitors.traffic: Figure 2's field
names in any case, what each call shows of its peers' roles):
  - a peer that sends AppendEntries or InstallSnapshot in term T leads T;
  - a peer that sends RequestVote in term T is a candidate in T;
  - a peer whose reply carries term T is in T; it follows if T is newer than
    what it had, or if it answered the leader of T (and then it does not become
    a candidate in T);
  - a peer that gets a reply with a newer term than it asked in follows that term;
  - a crashed peer is down until it is started again (it restarts as a follower).
Observations older than the peer's known term are stale (a late reply) and change
nothing.

Times in the page's data are whole microseconds since the record began; dicts
(an RPC's args and reply, an event's fields) are packed by Packer. The data is
built from named records (RpcRow, Band, Mark, Span, LogLine) and written in the
page's compact form (page.js reads it): a column list per field for the RPCs and
log lines, under short keys (RPC_COLUMNS), and a list per band, mark or span.
The page is deterministic: the same record gives the same bytes.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

from monitors import traffic

ROLES = ("follower", "candidate", "leader", "down")
OUTCOMES = ("ok", "request_dropped", "reply_dropped", "disconnected", "dead_server", "cleanup")
# Field values longer than this are cut in the page (a snapshot's Data, a long
# command): the page stays small and the details stay readable.
MAX_TEXT = 240
MAX_ITEMS = 16
MAX_LOG_TEXT = 400
MAX_LOG_LINES = 200_000

RPC_FIELDS = ("id", "src", "dst", "method", "sent", "done", "outcome")
_PEER_NAME = re.compile(r"\bS(\d+)\b")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


class RecordError(ValueError):
    """The record is not one the timeline can draw; the message says where and why."""


def _where(index: int, event: Any) -> str:
    seq = event.get("seq") if isinstance(event, dict) else None
    return f"event {index} (seq {seq})" if seq is not None else f"event {index}"


def _is_time(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_events(events: Sequence[Any]) -> None:
    """Raise RecordError at the first event the timeline cannot read."""
    if not events:
        raise RecordError("the record holds no events")
    for index, event in enumerate(events):
        where = _where(index, event)
        if not isinstance(event, dict):
            raise RecordError(f"{where}: not an object but {type(event).__name__}")
        for key in ("seq", "t", "kind"):
            if key not in event:
                raise RecordError(f"{where}: no '{key}' field")
        if not _is_time(event["t"]):
            raise RecordError(f"{where}: 't' is {event['t']!r}, not a number of seconds")
        kind = event["kind"]
        if kind == "rpc":
            for key in RPC_FIELDS:
                if key not in event:
                    raise RecordError(f"{where}: rpc without '{key}'")
            for key in ("sent", "done"):
                if not _is_time(event[key]):
                    raise RecordError(f"{where}: rpc '{key}' is {event[key]!r}, not a time")
            if event.get("handled") is not None and not _is_time(event["handled"]):
                raise RecordError(f"{where}: rpc 'handled' is {event['handled']!r}")
            for key in ("src", "dst"):
                if event[key] is not None and not isinstance(event[key], int):
                    raise RecordError(f"{where}: rpc '{key}' is {event[key]!r}, not a peer")
        elif kind in ("harness", "log"):
            peer = event.get("peer")
            if peer is not None and not isinstance(peer, int):
                raise RecordError(f"{where}: {kind} 'peer' is {peer!r}, not a peer number")


def _us(seconds: float) -> int:
    return int(round(seconds * 1_000_000))


def compact(value: Any, depth: int = 0) -> Any:
    """value as plain JSON, long strings and lists cut (saying how much), objects as fields."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            return value[:MAX_TEXT] + f"... ({len(value)} characters)"
        return value
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if depth > 6:
        return "..."
    if isinstance(value, dict):
        return {str(k): compact(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [compact(v, depth + 1) for v in value[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS:
            items.append(f"... {len(value) - MAX_ITEMS} more ({len(value)} in all)")
        return items
    # A live record may hold the objects themselves (entries carried by AppendEntries):
    # their fields.
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return compact(fields, depth + 1)
    # The same record must give the same page: a set's order and an object's address
    # change from one process to the next.
    if isinstance(value, (set, frozenset)):
        return compact(sorted(value, key=repr), depth + 1)
    return compact(without_addresses(repr(value)), depth + 1)


def without_addresses(text: str) -> str:
    """text without " at 0x7f..." (an object's address differs in every process)."""
    return _ADDRESS.sub("", text)


class Packer:
    """Dicts as [schema, value, ...]: the keys of a kind of dict are written once.

    An RPC's args always have the same fields (its class's), so a 20,000-RPC
    page would otherwise repeat "PrevLogIndex" 20,000 times. Anything that is
    not a dict is written as {"v": value}.
    """

    def __init__(self) -> None:
        self.schemas: List[List[str]] = []
        self._index: Dict[Tuple[str, ...], int] = {}

    def pack(self, value: Any) -> Any:
        value = compact(value)
        if not isinstance(value, dict):
            return {"v": value}
        keys = tuple(value)
        if keys not in self._index:
            self._index[keys] = len(self.schemas)
            self.schemas.append(list(keys))
        return [self._index[keys], *value.values()]


def _peer_count(events: Sequence[Dict[str, Any]]) -> int:
    declared = 0
    for event in events:
        if event["kind"] == "meta" and isinstance(event.get("peers"), int):
            declared = max(declared, event["peers"])
    seen = -1
    for event in events:
        for key in ("src", "dst", "peer"):
            value = event.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                seen = max(seen, value)
    return max(declared, seen + 1)


# What a harness event shows of a peer's role (an Observation's what, besides
# the sightings' roles).
DOWN = "down"
RESTART = "restart"


class Observation(NamedTuple):
    """A hint of a peer's role or term: a harness action, or a traffic.Sighting."""
    at: float
    seq: int
    peer: int
    what: str       # DOWN, RESTART, or a Sighting's role
    term: int       # -1 for a harness action


class Band(NamedTuple):
    """A peer's role and term over [t0, t1]."""
    peer: int
    t0: float
    t1: float
    role: str       # one of ROLES
    term: int


def _observations(events: Sequence[Dict[str, Any]]) -> List[Observation]:
    """Every hint of a peer's role or term, in time order."""
    seen: List[Observation] = []
    started = set()     # a crash before a peer's first start is start1's setup
    for event in events:
        seq = event["seq"]
        kind = event["kind"]
        if kind == "harness" and isinstance(event.get("peer"), int):
            if event.get("action") == "crash" and event["peer"] in started:
                seen.append(Observation(event["t"], seq, event["peer"], DOWN, -1))
            elif event.get("action") == "start":
                started.add(event["peer"])
                seen.append(Observation(event["t"], seq, event["peer"], RESTART, -1))
        elif kind == "rpc":
            seen.extend(Observation(sighting.at, seq, sighting.peer, sighting.role, sighting.term)
                        for sighting in traffic.sightings(traffic.read_call(event)))
    seen.sort(key=lambda o: (o.at, o.seq))
    return seen


def roles(events: Sequence[Dict[str, Any]], peers: int, t_end: float) -> List[Band]:
    """Each peer's (role, term) over time, as bands sorted by peer and time."""
    state = [("follower", 0)] * peers
    since = [0.0] * peers
    followed = [-1] * peers     # the last term in which the peer answered that term's leader
    bands: List[Band] = []

    def change(peer: int, t: float, role: str, term: int) -> None:
        if (role, term) == state[peer]:
            return
        if t > since[peer]:
            bands.append(Band(peer, since[peer], t, *state[peer]))
        state[peer] = (role, term)
        since[peer] = max(t, since[peer])

    for t, _, peer, what, term in _observations(events):
        if peer < 0 or peer >= peers:
            continue
        role, known = state[peer]
        if what == DOWN:
            change(peer, t, "down", known)
        elif what == RESTART:
            change(peer, t, "follower", known)
        elif role == "down" or term < known:
            continue            # a crashed peer's late traffic, or a stale reply
        elif what == traffic.LEADER:
            change(peer, t, "leader", term)
        elif what == traffic.CANDIDATE:
            # Same term: it may have answered another candidate between its increment
            # and its first RequestVote; not if it already answered this term's leader.
            if term > known or (role != "leader" and followed[peer] != term):
                change(peer, t, "candidate", term)
        else:                   # it followed a newer term, or answered in a term
            if what == traffic.FOLLOWS:
                followed[peer] = term
            if term > known or (what == traffic.FOLLOWS and role == "candidate"):
                change(peer, t, "follower", term)
    for peer in range(peers):
        end = max(t_end, since[peer])
        bands.append(Band(peer, since[peer], end, *state[peer]))
    bands.sort(key=lambda b: (b.peer, b.t0, b.t1))
    return bands


class Span(NamedTuple):
    """[t0, t1] of a peer's (or, peer None, the whole network's) state."""
    peer: Any
    t0: float
    t1: float


def _spans(events: Sequence[Dict[str, Any]], begin: str, end: str, t_end: float,
           after_first_end: bool = False) -> List[Span]:
    """A Span for each begin..end pair of harness actions (open ones end at t_end).

    after_first_end: a begin counts only once the peer has had its first end. The
    harness's start1 cuts a new peer off before it first connects it, as Go's does:
    that is setup, not a partition.
    """
    open_at: Dict[Any, float] = {}
    ended: set = set()
    spans: List[Span] = []
    for event in events:
        if event["kind"] != "harness":
            continue
        key = event.get("peer")
        action = event.get("action")
        if action == begin and key not in open_at and (key in ended or not after_first_end):
            open_at[key] = event["t"]
        elif action == end:
            ended.add(key)
            if key in open_at:
                spans.append(Span(key, open_at.pop(key), event["t"]))
    for key, t0 in open_at.items():
        spans.append(Span(key, t0, t_end))
    spans.sort(key=lambda s: (s.t0, -1 if s.peer is None else s.peer))
    return spans


def _switch_spans(events: Sequence[Dict[str, Any]], action: str, t_end: float) -> List[Span]:
    """A Span (peer None) while a harness switch (unreliable, longreordering) was on."""
    spans: List[Span] = []
    on_at: Optional[float] = None
    for event in events:
        if event["kind"] == "harness" and event.get("action") == action:
            if event.get("on") and on_at is None:
                on_at = event["t"]
            elif not event.get("on") and on_at is not None:
                spans.append(Span(None, on_at, event["t"]))
                on_at = None
    if on_at is not None:
        spans.append(Span(None, on_at, t_end))
    return spans


class Mark(NamedTuple):
    """A tick on a lane: an apply, a commit, a Start(), a check, a violation, ..."""
    t: int          # microseconds
    lane: int       # a peer, or -1 for the tester's lane
    type: str       # a key of page.js's MARK_TYPES
    label: str
    detail: int     # its index in the page's details (the event's fields)


def _mark_of(event: Dict[str, Any]) -> Tuple[Optional[int], str, str]:
    """(lane peer or None for the tester's lane, type, label) of a harness,
    violation or departure event."""
    if event["kind"] == "violation":
        return None, "violation", f"violation: {event.get('rule', '?')}"
    if event["kind"] == "departure":
        what = str(event.get("what", "a departure"))
        peer = event.get("peer")
        if not isinstance(peer, int) or isinstance(peer, bool):
            # A thread's choice: the peer its thread's name gives (raft-S2-ticker), if any.
            named = _PEER_NAME.search(what)
            peer = int(named.group(1)) if named else None
        return peer, "departure", what
    action = event.get("action")
    peer = event.get("peer") if isinstance(event.get("peer"), int) else None
    if action == "apply":
        if event.get("snapshot_index") is not None:
            return peer, "apply", f"snapshot {event['snapshot_index']}"
        return peer, "apply", f"apply {event.get('index')}"
    if action == "Start":
        if not event.get("is_leader"):
            return peer, "start-refused", "Start refused"
        return peer, "start", f"Start {event.get('index')}"
    if action == "check":
        ok = event.get("ok")
        return None, "check-ok" if ok else "check-fail", str(event.get("name", "check"))
    if action in ("begin", "end", "cleanup"):
        return None, "test", str(event.get("description") or action)
    if action in ("crash", "start", "connect", "disconnect"):
        label = {"start": "restart"}.get(action, action)
        return peer, "network", label
    if action in ("unreliable", "longreordering"):
        return None, "network", f"{action} {'on' if event.get('on') else 'off'}"
    return peer, "other", str(action)


def _fields(event: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in event.items() if k != "t"}


class RpcRow(NamedTuple):
    """One RPC as the page draws it (times in microseconds; -1 for none)."""
    seq: int
    id: Any
    src: int
    dst: int
    method: int     # its index in the page's methods
    heartbeat: int  # 1: an AppendEntries that carries no entries
    sent: int
    handled: int    # after sent; -1: never handled
    done: int       # after sent
    outcome: int    # its index in OUTCOMES (len(OUTCOMES): another)
    reordered: int
    term: int       # the args' Term, -1 for none
    bytes: int
    args: Any       # packed (Packer)
    reply: Any


# The page's key for each RpcRow field: page.js reads D.rpc[key][i].
RPC_COLUMNS = {"seq": "seq", "id": "id", "src": "src", "dst": "dst", "method": "m",
               "heartbeat": "hb", "sent": "sent", "handled": "handled", "done": "done",
               "outcome": "o", "reordered": "r", "term": "term", "bytes": "bytes",
               "args": "args", "reply": "reply"}


class LogLine(NamedTuple):
    t: int          # microseconds
    peer: int       # -1: no peer
    text: str


LOG_COLUMNS = {"t": "t", "peer": "p", "text": "x"}


def _columns(rows: Sequence[Tuple[Any, ...]], fields: Sequence[str],
             keys: Dict[str, str]) -> Dict[str, List[Any]]:
    """Rows of named fields as the page's columns: {key: [value of each row]}."""
    columns: Dict[str, List[Any]] = {keys[name]: [] for name in fields}
    for row in rows:
        for name, value in zip(fields, row):
            columns[keys[name]].append(value)
    return columns


def _rpc_row(event: Dict[str, Any], methods: List[str], packer: Packer) -> RpcRow:
    call = traffic.read_call(event)
    # A heartbeat is an AppendEntries that carries no entries.
    entries = call.args.get("entries")
    sent = _us(event["sent"])
    handled = event.get("handled")
    outcome = event["outcome"]
    size = event.get("bytes")
    return RpcRow(
        seq=event["seq"], id=event["id"],
        src=-1 if event["src"] is None else event["src"],
        dst=-1 if event["dst"] is None else event["dst"],
        method=methods.index(str(event["method"])),
        heartbeat=1 if isinstance(entries, list) and not entries else 0,
        sent=sent, handled=-1 if handled is None else _us(handled) - sent,
        done=_us(event["done"]) - sent,
        outcome=OUTCOMES.index(outcome) if outcome in OUTCOMES else len(OUTCOMES),
        reordered=1 if event.get("reordered") else 0,
        term=-1 if call.term is None else call.term,
        bytes=size if isinstance(size, int) else 0,
        args=packer.pack(event.get("args")), reply=packer.pack(event.get("reply")))


def _marks(events: Sequence[Dict[str, Any]], peers: int,
           packer: Packer) -> Tuple[List[Mark], List[Any]]:
    """The marks of every lane, in time order, and the details they point to."""
    marks: List[Mark] = []
    details: List[Any] = []
    commit_seen: Dict[int, int] = {}
    for e in events:
        if e["kind"] in ("harness", "violation", "departure"):
            lane, kind, label = _mark_of(e)
            if lane is not None and not 0 <= lane < peers:
                lane = None
            marks.append(Mark(_us(e["t"]), -1 if lane is None else lane, kind, label,
                              len(details)))
            details.append(packer.pack(_fields(e)))
            if e["kind"] == "violation":
                for peer in e.get("peers") or []:
                    if isinstance(peer, int) and 0 <= peer < peers:
                        marks.append(Mark(_us(e["t"]), peer, "violation", label,
                                          len(details) - 1))
        elif e["kind"] == "rpc" and e["src"] is not None:
            # A leader's commit index is visible in what it sends: mark where it grew.
            commit = traffic.fields(e.get("args")).get("leadercommit")
            if isinstance(commit, int) and commit > commit_seen.get(e["src"], 0):
                commit_seen[e["src"]] = commit
                marks.append(Mark(_us(e["sent"]), e["src"], "commit", f"commit {commit}",
                                  len(details)))
                details.append(packer.pack({"kind": "commit", "peer": e["src"],
                                            "LeaderCommit": commit,
                                            "seen in": f"rpc {e['id']} (seq {e['seq']})"}))
    marks.sort(key=lambda m: (m.t, m.lane, m.detail))
    return marks, details


def page_data(events: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """Everything the page draws, as plain JSON (times in microseconds)."""
    check_events(events)
    events = sorted(events, key=lambda e: e["seq"])
    meta = next((e for e in events if e["kind"] == "meta"), {})
    peers = _peer_count(events)
    t_end = max([e["t"] for e in events] + [e["done"] for e in events if e["kind"] == "rpc"])

    packer = Packer()
    calls = sorted((e for e in events if e["kind"] == "rpc"), key=lambda e: (e["sent"], e["seq"]))
    methods = sorted({str(e["method"]) for e in calls})
    rows = [_rpc_row(e, methods, packer) for e in calls]

    bands = roles(events, peers, t_end)
    leaders = sorted((b.t0, b.peer, b.term) for b in bands if b.role == "leader")
    marks, details = _marks(events, peers, packer)

    lines = [e for e in events if e["kind"] == "log"]
    cut_lines = max(0, len(lines) - MAX_LOG_LINES)
    log_lines = [LogLine(_us(e["t"]), e["peer"] if isinstance(e.get("peer"), int) else -1,
                         compact_text(str(e.get("text", ""))))
                 for e in lines[:MAX_LOG_LINES]]

    def peer_spans(spans: List[Span]) -> List[List[Any]]:
        return [[s.peer, _us(s.t0), _us(s.t1)] for s in spans]

    def times(spans: List[Span]) -> List[List[int]]:
        return [[_us(s.t0), _us(s.t1)] for s in spans]

    return {
        "format": 1,
        "test": str(meta.get("test", "")),
        "peers": peers,
        "t_end": _us(t_end),
        "methods": methods,
        "outcomes": list(OUTCOMES) + ["other"],
        "rpc": _columns(rows, RpcRow._fields, RPC_COLUMNS),
        "rpc_count": len(calls),
        "lost_count": sum(1 for row in rows if row.outcome != 0),
        "bands": [[b.peer, _us(b.t0), _us(b.t1), ROLES.index(b.role), b.term] for b in bands],
        "leaders": [[_us(t), peer, term] for t, peer, term in leaders],
        "cut": peer_spans(_spans(events, "disconnect", "connect", t_end, after_first_end=True)),
        "crashed": peer_spans(_spans(events, "crash", "start", t_end, after_first_end=True)),
        "unreliable": times(_switch_spans(events, "unreliable", t_end)),
        "reordering": times(_switch_spans(events, "longreordering", t_end)),
        "marks": [list(mark) for mark in marks],
        "details": details,
        "schemas": packer.schemas,
        "logs": _columns(log_lines, LogLine._fields, LOG_COLUMNS),
        "logs_cut": cut_lines,
        "violations": sum(1 for e in events if e["kind"] == "violation"),
        "departures": sum(1 for e in events if e["kind"] == "departure"),
        "failed_checks": sum(1 for e in events if e["kind"] == "harness"
                             and e.get("action") == "check" and not e.get("ok")),
    }


def compact_text(text: str) -> str:
    if len(text) > MAX_LOG_TEXT:
        return text[:MAX_LOG_TEXT] + f"... ({len(text)} characters)"
    return text
