"""A rule that reads the record in batches and reports its first violation.

    class MyRule(BatchedRule):
        def take(self, event): ...      check one event; self.fail(...) if broken
    rule = MyRule(record, report)
    record.subscribe(rule)

The record calls a subscriber after each event, in the adding thread and
under the record's lock. Checking a batch at a time costs less than one
event at a time between other threads' work (monitors.rules says why);
nothing is lost by waiting, for the harness flushes the record before it
looks for failures, and the events that end a test flush it too.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from labrpc.record import Record
from monitors.dispatch import BATCH_EVENTS, FLUSH_ACTIONS, describe

Event = Dict[str, Any]


class BatchedRule:
    RULE = ""
    SOURCE = ""

    def __init__(self, record: Record, report: Callable[[str], None]) -> None:
        self.record = record
        self.report = report
        self.stopped = False
        self.violation: Optional[str] = None
        self._backlog: List[Event] = []

    def __call__(self, event: Event) -> None:
        if self.stopped:
            return
        self._backlog.append(event)
        if len(self._backlog) >= BATCH_EVENTS or (event["kind"] == "harness"
                                                  and event.get("action") in FLUSH_ACTIONS):
            self.flush()

    def flush(self) -> None:
        """Check the events held (called under the record's lock)."""
        backlog, self._backlog = self._backlog, []
        for event in backlog:
            if self.stopped:
                return
            self.take(event)

    def take(self, event: Event) -> None:
        raise NotImplementedError

    def fail(self, message: str, peers: List[Any], term: Any, evidence: List[Event]) -> None:
        """Report the violation once, with the RPCs that show it; check no more."""
        self.stopped = True
        self.violation = "\n".join([f"Raft rule broken: {self.RULE}: {message}",
                                    f"  rule: {self.SOURCE}"]
                                   + ["  " + describe(event) for event in evidence])
        # Added from the subscriber, which runs under the record's lock.
        self.record.events.append({
            "seq": len(self.record.events), "t": self.record.now(), "kind": "violation",
            "rule": self.RULE, "source": self.SOURCE, "message": message,
            "peers": list(peers), "term": term,
            "evidence": [event.get("seq") for event in evidence],
        })
        self.report(self.violation)
