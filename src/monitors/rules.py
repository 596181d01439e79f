"""Raft's rules, checked on the run's record as it grows.

    mon = attach(record, peers, report, note)
        record   a labrpc.record.Record (the harness's cfg.record)
        peers    how many peers the cluster has
        report   report(message): called once, at the first violation (the
                 harness passes t.fail_later); a "violation" event is added too
        note     note(line): a rule that cannot be checked says why, once
    record.flush()  -- check the events the monitors hold (they check in
                       batches of BATCH_EVENTS, and at a test's end; the
                       harness flushes whenever its T looks for failures)

Every rule reads only what the network and the harness saw: the RPCs'
args and replies (field names matched to Figure 2's whatever their case or
underscores), who sent what to whom (the network's own knowledge), when
handlers ran, and the harness's crashes, restarts and applies. Each rule
is sound: it fires only on evidence that the rule was broken, never on a
guess; docs/monitors.md ("The rules") says why each one is. Events after the
harness's cleanup began are ignored (a killed peer may say anything).
"""

from __future__ import annotations

import bisect
import functools
from collections import defaultdict
from typing import Any, Callable, Dict, List, Optional, Tuple

from labrpc.record import Record

Event = Dict[str, Any]

# The assignment: "no more than ten [heartbeats] per second". Counted over
# a window of WINDOW_S seconds, with one more allowed for the window's edge.
HEARTBEATS_PER_S = 10
HEARTBEAT_WINDOW_S = 2.0
HEARTBEATS_ALLOWED = int(HEARTBEATS_PER_S * HEARTBEAT_WINDOW_S) + 1
# A follower's apply is checked against the AppendEntries it had handled once
# every reply that could support it has come back: a reply comes back at
# most 2.2 s after its handler (long reordering), so 5 s is ample.
SETTLE_S = 5.0

# The rules check events in batches of this many (see Monitors.__call__),
# and at once after the harness events that end a test.
BATCH_EVENTS = 64
FLUSH_ACTIONS = ("end", "cleanup")

# Outcomes of a call after which the handler's effects stand: it finished
# while its server was alive (labrpc checks that before it drops a reply).
LIVE_HANDLER = ("ok", "reply_dropped")

REQUEST_VOTE = "requestvote"
APPEND_ENTRIES = "appendentries"
INSTALL_SNAPSHOT = "installsnapshot"

SOURCES = {
    "election safety": "Figure 3, Election Safety: at most one leader in a term "
                       "(only a leader sends AppendEntries, Figure 2)",
    "one vote per term": "Figure 2, RequestVote RPC, receiver 2; votedFor is persistent state",
    "term never goes backwards": "Figure 2, State: currentTerm increases monotonically "
                                 "and is persistent",
    "stale term rejected": "Figure 2, RequestVote/AppendEntries RPC, receiver 1: "
                           "reply false if term < currentTerm",
    "heartbeat rate": "the assignment: the tester requires that the leader send heartbeat "
                      "RPCs no more than ten times per second",
    "commit needs a majority": "Figure 2, Rules for Servers, Leaders: commit N when a "
                               "majority of matchIndex[i] >= N",
    "commit only current-term entries": "Figure 2, Rules for Servers, Leaders: "
                                        "log[N].term == currentTerm (Figure 8)",
    "follower commit bound": "Figure 2, AppendEntries RPC, receiver 5: commitIndex = "
                             "min(leaderCommit, index of last new entry)",
}


@functools.lru_cache(maxsize=1024)
def _norm(name: str) -> str:
    return name.replace("_", "").lower()


# The normalised names of a field-name tuple: an RPC's args of one type have
# the same keys every time, so each shape is normalised once.
_shapes: Dict[Tuple[str, ...], Tuple[str, ...]] = {}


def _fields(value: Any) -> Dict[str, Any]:
    """A dict of an args or reply's fields by Figure 2's name (normalized)."""
    if not isinstance(value, dict):
        return {}
    keys = tuple(value)
    names = _shapes.get(keys)
    if names is None:
        if len(_shapes) > 4096:  # a run of ever-new shapes: keep memory bounded
            _shapes.clear()
        names = _shapes[keys] = tuple(_norm(str(key)) for key in keys)
    return dict(zip(names, value.values()))


@functools.lru_cache(maxsize=256)
def _method_of(method: str) -> str:
    return _norm(method.rpartition(".")[2])


def _method(event: Event) -> str:
    return _method_of(str(event.get("method", "")))


def _peer(value: Any) -> str:
    return f"S{value}"


def _s(t: Optional[float]) -> str:
    return "?" if t is None else f"{t:.3f} s"


def describe(event: Event) -> str:
    """One line for an rpc event, for a violation's evidence."""
    name = str(event.get("method", "")).rpartition(".")[2]
    reply = event.get("reply")
    shown_args = {k: (f"[{len(v)} entries]" if isinstance(v, list) else v)
                  for k, v in (event.get("args") or {}).items()
                  if not isinstance(v, bytes)}
    return (f"rpc #{event.get('id')} {name} {_peer(event.get('src'))} -> "
            f"{_peer(event.get('dst'))} sent t={_s(event.get('sent'))} handled "
            f"t={_s(event.get('handled'))} ({event.get('outcome')}): args {shown_args} "
            f"reply {reply}")


class _Violation(Exception):
    def __init__(self, rule: str, message: str, peers: List[Any], term: Any,
                 evidence: List[Event]) -> None:
        super().__init__(message)
        self.rule, self.message, self.peers, self.term = rule, message, peers, term
        self.evidence = evidence


class Monitors:
    """Every rule, fed one event at a time (a Record subscriber)."""

    def __init__(self, record: Record, peers: int, report: Callable[[str], None],
                 note: Callable[[str], None]) -> None:
        self.record = record
        self.n = peers
        self.report = report
        self.note = note
        self.stopped = False
        self.violation: Optional[str] = None
        self._noted: set = set()
        self._life_start: Dict[Tuple[Any, int], float] = {}
        self._life_snapshot: Dict[Tuple[Any, int], int] = {}
        self._life: Dict[Any, int] = {}
        # election safety: term -> (leader, event)
        self._leaders: Dict[Any, Tuple[Any, Event]] = {}
        # one vote per term: (voter, term) -> (candidate, event);
        # (candidate, term) -> (life, event) of its own RequestVote
        self._votes: Dict[Tuple[Any, Any], Tuple[Any, Event]] = {}
        self._self_votes: Dict[Tuple[Any, Any], Tuple[Any, Event]] = {}
        # term never goes backwards (see _observe_term)
        self._end_reply: Dict[Any, Dict[int, Tuple[float, Event]]] = defaultdict(dict)
        self._end_life: Dict[Tuple[Any, Any], Dict[int, Tuple[float, Event]]] = \
            defaultdict(dict)
        self._start_any: Dict[Any, Dict[int, Tuple[float, Event, str, Any]]] = \
            defaultdict(dict)
        # heartbeats: (leader, follower, term) -> AppendEntries sorted by sent
        self._beats: Dict[Tuple[Any, Any, Any], List[Tuple[float, int, Event, Any]]] = \
            defaultdict(list)
        self._breaks: Dict[Tuple[Any, Any, Any], List[float]] = defaultdict(list)
        # leader rules, per (leader, term)
        self._lowest_commit: Dict[Tuple[Any, Any], int] = {}
        # commit index -> (the earliest send that carried it, that event)
        self._commits: Dict[Tuple[Any, Any], Dict[int, Tuple[float, Event]]] = \
            defaultdict(dict)
        self._unknown_terms: Dict[Tuple[Any, Any], Dict[int, Event]] = defaultdict(dict)
        self._log_terms: Dict[Tuple[Any, Any], Dict[int, Tuple[int, Event]]] = \
            defaultdict(dict)
        self._acks: Dict[Tuple[Any, Any, Any], List[Tuple[float, int, Event]]] = \
            defaultdict(list)
        # follower commit bound, per (peer, life)
        self._support: Dict[Tuple[Any, Any], List[Tuple[float, int, Event]]] = \
            defaultdict(list)
        self._led_from: Dict[Tuple[Any, Any], float] = {}
        # (peer, life) -> the earliest send of an AppendEntries or
        # InstallSnapshot whose handler ran unseen (its caller stopped waiting)
        self._unseen: Dict[Tuple[Any, Any], float] = {}
        self._pending_applies: List[Tuple[float, Any, Any, int, Event]] = []
        self._backlog: List[Event] = []

    # --- feeding -------------------------------------------------------------

    def __call__(self, event: Event) -> None:
        """Take one event; check the backlog when it is full or the run ends.

        The rules run over a batch of events at a time, not each event as it
        comes: one event's checks in the middle of a run's other threads
        cost several times what they cost in a batch, whose code and tables
        stay in the CPU's caches. Nothing is lost by waiting: a violation
        reaches the test only at the harness's next check, which flushes
        the backlog first (Record.flush).
        """
        if self.stopped:
            return
        backlog = self._backlog
        backlog.append(event)
        if len(backlog) >= BATCH_EVENTS or (event["kind"] == "harness"
                                            and event.get("action") in FLUSH_ACTIONS):
            self.flush()

    def flush(self) -> None:
        """Check every event taken so far (the record's lock is held)."""
        backlog, self._backlog = self._backlog, []
        for event in backlog:
            if self.stopped:
                break
            self._check(event)

    def _check(self, event: Event) -> None:
        try:
            kind = event["kind"]
            if kind == "rpc":
                self._rpc(event)
            elif kind == "harness":
                self._harness(event)
            if self._pending_applies:
                self._settle(event["t"])
        except _Violation as found:
            self._fail(found)
        except Exception as err:  # a field of a shape no rule expected
            # A monitor must never break a run: say so and check no more.
            self.stopped = True
            self.note(f"monitor: stopped checking after an unexpected {type(err).__name__} "
                      f"on event #{event.get('seq')}: {err}")

    def _fail(self, found: _Violation) -> None:
        self.stopped = True
        source = SOURCES.get(found.rule, "")
        lines = [f"Raft rule broken: {found.rule}: {found.message}", f"  rule: {source}"]
        lines += ["  " + describe(event) for event in found.evidence
                  if event.get("kind") == "rpc"]
        lines += ["  " + _harness_line(event) for event in found.evidence
                  if event.get("kind") == "harness"]
        self.violation = "\n".join(lines)
        # Added from the subscriber: the record's lock is held by this
        # thread, so the event goes in directly (after the events of the batch).
        self.record.events.append({
            "seq": len(self.record.events), "t": self.record.now(), "kind": "violation",
            "rule": found.rule, "source": source, "message": found.message,
            "peers": list(found.peers), "term": found.term,
            "evidence": [event.get("seq") for event in found.evidence],
        })
        self.report(self.violation)

    def _missing(self, rule: str, what: str) -> None:
        if rule not in self._noted:
            self._noted.add(rule)
            self.note(f"monitor: cannot check '{rule}': {what} (Figure 2's name, "
                      "any case, underscores ignored)")

    def _harness(self, event: Event) -> None:
        action = event.get("action")
        peer = event.get("peer")
        if action == "start":
            life = event.get("life", 0)
            self._life[peer] = life
            self._life_start[(peer, life)] = event["t"]
            self._life_snapshot[(peer, life)] = event.get("snapshot_index") or 0
        elif action == "apply" and event.get("index") is not None:
            self._check_apply(event)
        elif action == "cleanup":
            self.stopped = True

    def _rpc(self, event: Event) -> None:
        method = _method(event)
        if method not in (REQUEST_VOTE, APPEND_ENTRIES, INSTALL_SNAPSHOT):
            return
        args = _fields(event.get("args"))
        reply = _fields(event.get("reply")) if event.get("reply") is not None else None
        if "term" not in args:
            self._missing("term never goes backwards", f"{event['method']}'s args have no Term")
            return
        if not isinstance(args["term"], int):
            return
        self._observe_terms(event, args, reply)
        if method == REQUEST_VOTE:
            self._request_vote(event, args, reply)
        else:
            self._leader_sent(event, method, args, reply)

    # --- election safety, and the leader's own rules -------------------------

    def _leader_sent(self, event: Event, method: str, args: Dict[str, Any],
                     reply: Optional[Dict[str, Any]]) -> None:
        src, term = event.get("src"), args["term"]
        if src is None:
            return
        first = self._leaders.setdefault(term, (src, event))
        if first[0] != src:
            raise _Violation(
                "election safety",
                f"{_peer(first[0])} and {_peer(src)} both acted as leader in term {term}: "
                f"{_peer(first[0])} sent {_name(first[1])} at t={_s(first[1]['sent'])}, "
                f"{_peer(src)} sent {_name(event)} at t={_s(event['sent'])}",
                [first[0], src], term, [first[1], event])
        life = event.get("src_life")
        self._led_from.setdefault((src, life), event["sent"])
        if reply is None and event.get("delivered"):
            unseen = (event.get("dst"), event.get("dst_life"))
            self._unseen[unseen] = min(self._unseen.get(unseen, event["sent"]), event["sent"])
        if method == APPEND_ENTRIES:
            self._append_entries(event, args, reply)
        else:
            self._install_snapshot(event, args, reply)

    def _append_entries(self, event: Event, args: Dict[str, Any],
                        reply: Optional[Dict[str, Any]]) -> None:
        src, dst, term = event.get("src"), event.get("dst"), args["term"]
        needed = ("prevlogindex", "prevlogterm", "entries", "leadercommit")
        if not all(name in args for name in needed):
            self._missing("commit needs a majority",
                          "AppendEntries' args lack one of PrevLogIndex, PrevLogTerm, "
                          "Entries, LeaderCommit")
            return
        prev, entries, commit = args["prevlogindex"], args["entries"], args["leadercommit"]
        if not isinstance(entries, list):
            return
        key = (src, term)
        # What the leader's log holds (its log only grows during its term).
        terms = self._log_terms[key]
        terms.setdefault(prev, (args["prevlogterm"], event))
        for index, entry in enumerate(entries, start=prev + 1):
            if index in terms:
                continue  # known from an earlier send: the same entry
            entry_term = _fields(entry).get("term")
            if entry_term is None:
                self._missing("commit only current-term entries", "log entries have no Term")
                break
            terms[index] = (entry_term, event)
        self._recheck_terms(key)
        success = reply is not None and bool(reply.get("success"))
        if reply is not None and "success" not in reply:
            self._missing("stale term rejected", "AppendEntries' reply has no Success")
        if success:
            self._stale(event, "AppendEntries accepted", args, reply)
            self._support[(dst, event.get("dst_life"))].append(
                (event["handled"], min(commit, prev + len(entries)), event))
            self._supported(dst, event.get("dst_life"), event["handled"],
                            min(commit, prev + len(entries)))
            if event["outcome"] == "ok":
                self._ack(key, dst, prev + len(entries), event)
        self._leader_commit(key, commit, event)
        self._heartbeat(event, term, entries, commit, success)

    def _install_snapshot(self, event: Event, args: Dict[str, Any],
                          reply: Optional[Dict[str, Any]]) -> None:
        index, last_term = args.get("lastincludedindex"), args.get("lastincludedterm")
        if index is None:
            return
        key = (event.get("src"), args["term"])
        if last_term is not None:
            self._log_terms[key].setdefault(index, (last_term, event))
        if reply is not None:
            self._support[(event.get("dst"), event.get("dst_life"))].append(
                (event["handled"], index, event))
            self._supported(event.get("dst"), event.get("dst_life"), event["handled"], index)
            if event["outcome"] == "ok" and (reply.get("term") or 0) <= args["term"]:
                self._ack(key, event.get("dst"), index, event)
        self._recheck_terms(key)

    def _ack(self, key: Tuple[Any, Any], follower: Any, index: int, event: Event) -> None:
        # Keyed by the event's t: it was added before the leader's Call
        # returned, so before the leader could act on the answer.
        acks = self._acks[(key[0], key[1], follower)]
        best = max(index, acks[-1][1]) if acks else index
        acks.append((event["t"], best, event))

    def _leader_commit(self, key: Tuple[Any, Any], commit: int, event: Event) -> None:
        """LeaderCommit is the leader's commitIndex (Figure 2).

        The lowest a leader sent in a term is at least its commitIndex when
        the term began; every higher one was committed in the term, so by
        the leaders' rule: a majority held it, and its entry is of the term.
        """
        seen = self._commits[key]
        first = commit not in seen or event["sent"] < seen[commit][0]
        if first:
            seen[commit] = (event["sent"], event)
        lowest = self._lowest_commit.get(key)
        if lowest is None or commit < lowest:
            self._lowest_commit[key] = commit
            for other, (sent, earlier) in list(seen.items()):
                if other > commit:
                    self._check_commit(key, other, sent, earlier)
        elif commit > lowest and first:
            self._check_commit(key, commit, event["sent"], event)

    def _check_commit(self, key: Tuple[Any, Any], commit: int, sent: float,
                      event: Event) -> None:
        leader, term = key
        holders = [leader]
        evidence = [event]
        for follower in range(self.n):
            acks = self._acks.get((leader, term, follower))
            if follower == leader or not acks:
                continue
            at = bisect.bisect_left(acks, (sent,)) - 1
            if at >= 0 and acks[at][1] >= commit:
                holders.append(follower)
                evidence.append(acks[at][2])
        if 2 * len(holders) <= self.n:
            raise _Violation(
                "commit needs a majority",
                f"{_peer(leader)} told followers index {commit} was committed "
                f"(LeaderCommit {commit}, t={_s(sent)}) in term {term}, but only "
                f"{', '.join(map(_peer, holders))} had acknowledged holding it by then "
                f"({len(holders)} of {self.n})",
                holders, term, evidence)
        self._check_commit_term(key, commit, event)

    def _check_commit_term(self, key: Tuple[Any, Any], commit: int, event: Event) -> None:
        leader, term = key
        known = self._log_terms[key].get(commit)
        if known is None:
            self._unknown_terms[key][commit] = event
            return
        self._unknown_terms[key].pop(commit, None)
        if known[0] != term:
            raise _Violation(
                "commit only current-term entries",
                f"{_peer(leader)}, leader in term {term}, committed index {commit} "
                f"(LeaderCommit at t={_s(event['sent'])}), an entry of term {known[0]}, "
                f"with no entry of term {term} committed above it (Figure 8)",
                [leader], term, [event, known[1]])

    def _recheck_terms(self, key: Tuple[Any, Any]) -> None:
        unknown = self._unknown_terms.get(key)
        if unknown:
            for commit, event in list(unknown.items()):
                if commit in self._log_terms[key]:
                    self._check_commit_term(key, commit, event)

    # --- votes -------------------------------------------------------------------

    def _request_vote(self, event: Event, args: Dict[str, Any],
                      reply: Optional[Dict[str, Any]]) -> None:
        src, dst, term = event.get("src"), event.get("dst"), args["term"]
        if src is not None:
            mine = self._self_votes.setdefault((src, term), (event.get("src_life"), event))
            given = self._votes.get((src, term))
            if given is not None and given[0] != src and \
                    given[1].get("dst_life") == mine[0]:
                self._two_votes(src, term, (src, mine[1]), given)
        if reply is None or event["outcome"] not in LIVE_HANDLER:
            return
        if "votegranted" not in reply:
            self._missing("one vote per term", "RequestVote's reply has no VoteGranted")
            return
        if not reply["votegranted"]:
            return
        self._stale(event, "vote granted", args, reply)
        candidate = src if src is not None else args.get("candidateid")
        first = self._votes.setdefault((dst, term), (candidate, event))
        if first[0] != candidate:
            self._two_votes(dst, term, first, (candidate, event))
        mine = self._self_votes.get((dst, term))
        if mine is not None and mine[0] == event.get("dst_life") and candidate != dst:
            self._two_votes(dst, term, (dst, mine[1]), (candidate, event))

    def _two_votes(self, voter: Any, term: Any, first: Tuple[Any, Event],
                   second: Tuple[Any, Event]) -> None:
        def vote(candidate: Any, event: Event) -> str:
            if candidate == voter:
                return f"itself (it asked for votes at t={_s(event['sent'])})"
            return f"{_peer(candidate)} (t={_s(event['handled'])})"
        lives = {_life_of(first[1], voter), _life_of(second[1], voter)}
        across = " (across a restart: votedFor must be persisted)" if len(lives) > 1 else ""
        raise _Violation(
            "one vote per term",
            f"{_peer(voter)} voted for {vote(*first)} and for {vote(*second)} "
            f"in term {term}{across}",
            [voter, first[0], second[0]], term, [first[1], second[1]])

    def _stale(self, event: Event, what: str, args: Dict[str, Any],
               reply: Dict[str, Any]) -> None:
        theirs = reply.get("term")
        if isinstance(theirs, int) and theirs > args["term"]:
            raise _Violation(
                "stale term rejected",
                f"{what}: {_peer(event.get('dst'))} was in term {theirs} and accepted "
                f"{_name(event)} of term {args['term']} from {_peer(event.get('src'))} "
                f"(t={_s(event['handled'])})",
                [event.get("dst"), event.get("src")], theirs, [event])

    # --- terms -----------------------------------------------------------------------

    def _observe_terms(self, event: Event, args: Dict[str, Any],
                       reply: Optional[Dict[str, Any]]) -> None:
        """Each RPC shows two terms: the sender's in its args, the handler's in its reply.

        A term is known to hold at some instant of an interval: the args'
        between the sender's (re)start and the send, the reply's while the
        handler ran. A term goes backwards when an interval that ends before
        another begins shows a higher term. Across a restart only a reply's
        term counts as the earlier one (a peer persists before it answers;
        it may send before it persists).
        """
        src, dst = event.get("src"), event.get("dst")
        if src is not None and isinstance(args["term"], int):
            life = event.get("src_life")
            begin = self._life_start.get((src, life), 0.0)
            self._observe(src, life, begin, event["sent"], args["term"], "args", event)
        if dst is not None and reply is not None and event["outcome"] in LIVE_HANDLER:
            term = reply.get("term")
            if isinstance(term, int) and term > 0:  # 0: a reply the handler left unset
                self._observe(dst, event.get("dst_life"), event["handled"],
                              event["handler_done"], term, "reply", event)

    def _observe(self, peer: Any, life: Any, begin: float, end: float, term: int,
                 kind: str, event: Event) -> None:
        # Later than an earlier, higher term?
        for ends in (self._end_life[(peer, life)], self._end_reply[peer]):
            for higher, at in ends.items():
                if higher > term and at[0] < begin:
                    raise _Violation(
                        "term never goes backwards",
                        f"{_peer(peer)} {_said(peer, at[1], higher)}, then "
                        f"{'sent' if kind == 'args' else 'replied'} term {term} in "
                        f"{_name(event)} at "
                        f"t={_s(event['sent'] if kind == 'args' else begin)}"
                        f"{self._restart_between(peer, at[1], event)}",
                        [peer], higher, [at[1], event])
        # Earlier than a later, lower term?
        for lower, at in self._start_any[peer].items():
            start, later, later_kind, later_life = at
            if lower < term and start > end and (kind == "reply" or later_life == life):
                raise _Violation(
                    "term never goes backwards",
                    f"{_peer(peer)} {'sent' if kind == 'args' else 'replied'} term {term} in "
                    f"{_name(event)} at t={_s(end if kind == 'args' else begin)}, then "
                    f"{_said(peer, later, lower)}{self._restart_between(peer, event, later)}",
                    [peer], term, [event, later])
        ends = self._end_life[(peer, life)]
        if term not in ends or end < ends[term][0]:
            ends[term] = (end, event)
        if kind == "reply":
            if term not in self._end_reply[peer] or end < self._end_reply[peer][term][0]:
                self._end_reply[peer][term] = (end, event)
        starts = self._start_any[peer]
        if term not in starts or begin > starts[term][0]:
            starts[term] = (begin, event, kind, life)

    def _restart_between(self, peer: Any, first: Event, second: Event) -> str:
        lives = {_life_of(first, peer), _life_of(second, peer)}
        return " (across a restart: currentTerm must be persisted)" if len(lives) > 1 else ""

    # --- heartbeats ----------------------------------------------------------------------

    def _heartbeat(self, event: Event, term: Any, entries: List[Any], commit: Any,
                   success: bool) -> None:
        """Idle: no entries, the same LeaderCommit, and every one answered with success.

        Only idle AppendEntries are kept; any other one is a break, which
        ends a run of idle ones (events come in the order calls returned, so
        both lists are kept sorted by send time).
        """
        key = (event.get("src"), event.get("dst"), term)
        sent = event["sent"]
        if entries or not success or event["outcome"] != "ok":
            breaks = self._breaks[key]
            bisect.insort(breaks, sent)
            # An idle AppendEntries comes back within 2.2 s of its send, and
            # looks a window back: older breaks can no longer matter.
            while breaks[0] < breaks[-1] - 2 * HEARTBEAT_WINDOW_S - 1.0:
                breaks.pop(0)
            return
        beats = self._beats[key]
        bisect.insort(beats, (sent, event["id"], event, commit))
        horizon = beats[-1][0] - 2 * HEARTBEAT_WINDOW_S
        while beats[0][0] < horizon:
            beats.pop(0)
        # The beats within a window of the new one, cut into runs.
        low = bisect.bisect_left(beats, (sent - HEARTBEAT_WINDOW_S,))
        high = bisect.bisect_right(beats, (sent + HEARTBEAT_WINDOW_S, float("inf")))
        breaks = self._breaks.get(key, [])
        run: List[Tuple[float, Event, Any]] = []
        for beat_sent, _, beat, beat_commit in beats[low:high]:
            if run and (beat_commit != run[-1][2] or _between(breaks, run[-1][0], beat_sent)):
                run = []
            run.append((beat_sent, beat, beat_commit))
            while beat_sent - run[0][0] >= HEARTBEAT_WINDOW_S:
                run.pop(0)
            if len(run) > HEARTBEATS_ALLOWED:
                leader, follower = key[0], key[1]
                raise _Violation(
                    "heartbeat rate",
                    f"{_peer(leader)} sent idle {_peer(follower)} {len(run)} AppendEntries "
                    f"in {beat_sent - run[0][0]:.2f} s (t={_s(run[0][0])} to "
                    f"t={_s(beat_sent)}) in term {term}: none carried entries or a new "
                    f"LeaderCommit, and each earlier one was answered with success; at most "
                    f"{HEARTBEATS_PER_S} a second are allowed",
                    [leader, follower], term, [run[0][1], run[-1][1]])

    # --- a follower's commits ----------------------------------------------------------

    def _check_apply(self, event: Event) -> None:
        if self.n == 1:
            return  # a lone peer is its own majority: it commits without RPCs
        peer, index = event.get("peer"), event["index"]
        life = event.get("life", self._life.get(peer))
        if index <= self._life_snapshot.get((peer, life), 0):
            return
        if self._is_supported(peer, life, event["t"], index):
            return
        self._pending_applies.append((event["t"], peer, life, index, event))

    def _is_supported(self, peer: Any, life: Any, at: float, index: int) -> bool:
        return any(handled < at and bound >= index
                   for handled, bound, _ in reversed(self._support.get((peer, life), ())))

    def _supported(self, peer: Any, life: Any, handled: float, bound: int) -> None:
        if self._pending_applies:
            self._pending_applies = [
                pending for pending in self._pending_applies
                if not (pending[1] == peer and pending[2] == life
                        and handled < pending[0] and bound >= pending[3])]

    def _settle(self, now: float) -> None:
        while self._pending_applies and self._pending_applies[0][0] + SETTLE_S < now:
            at, peer, life, index, event = self._pending_applies.pop(0)
            led = self._led_from.get((peer, life))
            if led is not None and led < at:
                continue  # a leader commits by its own rules, checked above
            unseen = self._unseen.get((peer, life))
            if unseen is not None and unseen < at:
                continue  # a handler ran that no reply showed: it may have allowed it
            bound = max([b for h, b, _ in self._support.get((peer, life), ()) if h < at],
                        default=self._life_snapshot.get((peer, life), 0))
            raise _Violation(
                "follower commit bound",
                f"{_peer(peer)} applied index {index} at t={_s(at)}, but the AppendEntries "
                f"it had accepted allowed it to commit only through index {bound}",
                [peer], None, [event])


def _between(times: List[float], low: float, high: float) -> bool:
    """Whether a sorted list holds a time strictly between low and high."""
    at = bisect.bisect_right(times, low)
    return at < len(times) and times[at] < high


def _name(event: Event) -> str:
    return str(event.get("method", "")).rpartition(".")[2]


def _said(peer: Any, event: Event, term: int) -> str:
    """What peer's RPC event showed of its term, for a message."""
    if event.get("src") == peer:
        return f"sent term {term} in {_name(event)} at t={_s(event['sent'])}"
    return f"replied term {term} in {_name(event)} at t={_s(event['handled'])}"


def _life_of(event: Event, peer: Any) -> Any:
    return event.get("src_life") if event.get("src") == peer else event.get("dst_life")


def _harness_line(event: Event) -> str:
    fields = {k: v for k, v in event.items() if k not in ("seq", "t", "kind", "action")}
    return f"harness {event.get('action')} t={_s(event.get('t'))} {fields}"


def attach(record: Record, peers: int, report: Callable[[str], None],
           note: Callable[[str], None]) -> Monitors:
    """Check every later event of record; see the module docstring."""
    monitors = Monitors(record, peers, report, note)
    record.subscribe(monitors)
    return monitors
