"""The monitors' dispatcher: a Record subscriber that hands each rule the events it reads.

    monitors = Monitors(record, peers, report, note, rule_classes)
        record(event) -> monitors(event)   -- held in a batch (BATCH_EVENTS)
        record.flush() -> monitors.flush() -- check the batch now
        monitors.stopped, monitors.violation   -- after a violation, cleanup,
                                                  or an event no rule expected

Each event of a batch goes, in the record's order, to the rules that read
its kind (monitors.rule says the kinds); a call is read once
(monitors.traffic) for all of them. The first Violation stops the checks:
it is reported once, report(text), and added to the record as a
"violation" event. Events after the harness's cleanup began are not
checked (a killed peer may say anything).
"""

from __future__ import annotations

from typing import Callable, Dict, Iterable, List, Optional, Type

from labrpc.record import Record
from monitors.rule import (CALL_KINDS, EVERY_EVENT, HARNESS_KINDS, UNATTRIBUTED, Facts, Rule,
                           Violation, peer_name, seconds)
from monitors.traffic import LEADER, Call, Event, method_name, read_call

# The rules check events in batches of this many (see Monitors.__call__),
# and at once after the harness events that end a test.
BATCH_EVENTS = 64
FLUSH_ACTIONS = ("end", "cleanup")


class Monitors:
    """Every rule, fed the record's events (a Record subscriber)."""

    def __init__(self, record: Record, peers: int, report: Callable[[str], None],
                 note: Callable[[str], None], rule_classes: Iterable[Type[Rule]]) -> None:
        self.record = record
        self.report = report
        self.note = note
        self.stopped = False
        self.violation: Optional[str] = None
        facts: Facts = {}
        self.rules = [rule_class(peers, note, facts) for rule_class in rule_classes]
        self._term_noted = False
        self._backlog: List[Event] = []
        # Each kind's handlers, in the rules' order.
        self._on_call: Dict[str, List[Callable[[Call], None]]] = {k: [] for k in CALL_KINDS}
        self._on_harness: Dict[str, List[Callable[[Event], None]]] = {}
        self._on_time: List[Callable[[float], None]] = []
        for rule in self.rules:
            for kind in rule.reads:
                if kind in self._on_call:
                    self._on_call[kind].append(rule.on_call)
                elif kind in HARNESS_KINDS:
                    self._on_harness.setdefault(HARNESS_KINDS[kind], []).append(rule.on_harness)
                elif kind == EVERY_EVENT:
                    self._on_time.append(rule.on_time)
                else:
                    raise ValueError(f"rule {rule.name!r} reads {kind!r}, which is no kind "
                                     "of event (see monitors.rule)")

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
                self._call(event)
            elif kind == "harness":
                action = event.get("action")
                if action == "cleanup":
                    self.stopped = True
                for handler in self._on_harness.get(action, ()):
                    handler(event)
            for handler in self._on_time:
                handler(event["t"])
        except Violation as found:
            self._fail(found)
        except Exception as err:  # a field of a shape no rule expected
            # A monitor must never break a run: say so and check no more.
            self.stopped = True
            self.note(f"monitor: stopped checking after an unexpected {type(err).__name__} "
                      f"on event #{event.get('seq')}: {err}")

    def _call(self, event: Event) -> None:
        call = read_call(event)
        kind = call.method
        if call.src is None and call.sender_role == LEADER:
            kind = UNATTRIBUTED
        handlers = self._on_call.get(kind)
        if handlers is None:
            return  # not one of Figure 2's RPCs
        if call.term is None:
            if "term" not in call.args and not self._term_noted:
                self._term_noted = True
                self.note(f"monitor: cannot check the rules on RPCs: {event['method']}'s args "
                          "have no Term (Figure 2's name, any case, underscores ignored)")
            return
        for handler in handlers:
            handler(call)

    # --- a violation ---------------------------------------------------------

    def _fail(self, found: Violation) -> None:
        self.stopped = True
        rule = found.rule
        lines = [f"Raft rule broken: {rule.name}: {found.message}", f"  rule: {rule.source}"]
        lines += ["  " + describe(event) for event in found.evidence
                  if event.get("kind") == "rpc"]
        lines += ["  " + harness_line(event) for event in found.evidence
                  if event.get("kind") == "harness"]
        self.violation = "\n".join(lines)
        # Added from the subscriber: the record's lock is held by this
        # thread, so the event goes in directly (after the events of the batch).
        self.record.events.append({
            "seq": len(self.record.events), "t": self.record.now(), "kind": "violation",
            "rule": rule.name, "source": rule.source, "message": found.message,
            "peers": list(found.peers), "term": found.term,
            "evidence": [event.get("seq") for event in found.evidence],
        })
        self.report(self.violation)


def describe(event: Event) -> str:
    """One line for an rpc event, for a violation's evidence."""
    shown_args = {k: (f"[{len(v)} entries]" if isinstance(v, list) else v)
                  for k, v in (event.get("args") or {}).items()
                  if not isinstance(v, bytes)}
    return (f"rpc #{event.get('id')} {method_name(event)} {peer_name(event.get('src'))} -> "
            f"{peer_name(event.get('dst'))} sent t={seconds(event.get('sent'))} handled "
            f"t={seconds(event.get('handled'))} ({event.get('outcome')}): args {shown_args} "
            f"reply {event.get('reply')}")


def harness_line(event: Event) -> str:
    """One line for a harness event, for a violation's evidence."""
    fields = {k: v for k, v in event.items() if k not in ("seq", "t", "kind", "action")}
    return f"harness {event.get('action')} t={seconds(event.get('t'))} {fields}"
