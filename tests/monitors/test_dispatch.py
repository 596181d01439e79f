"""The monitors' dispatcher: each rule gets the events it reads, and only those."""

from __future__ import annotations

from typing import Any, List, Optional

import pytest

from labrpc.record import Record
from monitors import rule as kinds
from monitors.dispatch import Monitors
from monitors.rule import Rule
from monitors.rules import RULES, SOURCES
from monitors.traffic import Call, Event

RV, AE, IS = "Raft.RequestVote", "Raft.AppendEntries", "Raft.InstallSnapshot"


def spy(*reads: str) -> Any:
    """A rule class that keeps what it is handed."""
    class Spy(Rule):
        name = "spy"
        source = "the test"

        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            self.seen: List[str] = []

        def on_call(self, call: Call) -> None:
            self.seen.append(f"{call.method} from {call.src}")

        def on_harness(self, event: Event) -> None:
            self.seen.append(f"harness {event['action']}")

        def on_time(self, now: float) -> None:
            self.seen.append(f"time {now}")
    Spy.reads = reads
    return Spy


def feed(rule_class: Any, notes: Optional[List[str]] = None) -> List[str]:
    record = Record(clock=lambda: 1.0)
    monitors = Monitors(record, 3, lambda text: None,
                        (notes if notes is not None else []).append, [rule_class])
    record.subscribe(monitors)

    def rpc(method: str, src: Optional[int], args: dict) -> None:
        record.add("rpc", id=len(record.events), src=src, dst=1, method=method, args=args,
                   reply={"Term": 1}, sent=0.5, handled=0.6, handler_done=0.7, done=0.8,
                   outcome="ok", src_life=1, dst_life=1)
    rpc(RV, 0, {"Term": 1})
    rpc(AE, 0, {"Term": 1})
    rpc(IS, None, {"Term": 1})
    rpc(AE, 2, {"term": "one"})
    rpc(AE, 2, {"LeaderId": 2})
    rpc("Raft.Ping", 2, {"Term": 1})
    record.add("harness", action="start", peer=2, life=2)
    record.add("harness", action="apply", peer=2, index=1)
    record.flush()
    return monitors.rules[0].seen


def test_a_rule_is_handed_only_the_kinds_it_reads() -> None:
    assert feed(spy(kinds.APPEND_ENTRIES)) == ["appendentries from 0"]
    assert feed(spy(kinds.REQUEST_VOTE, kinds.UNATTRIBUTED)) == [
        "requestvote from 0", "installsnapshot from None"]
    assert feed(spy(kinds.INSTALL_SNAPSHOT)) == []  # its only one came from no peer
    assert feed(spy(kinds.APPLY)) == ["harness apply"]
    assert feed(spy(kinds.START, kinds.EVERY_EVENT)) == [
        "time 0.0", "time 0.0", "time 0.0", "time 0.0", "time 0.0", "time 0.0",
        "harness start", "time 0.0", "time 0.0"]


def test_a_call_without_a_term_is_said_once_and_read_by_no_rule() -> None:
    notes: List[str] = []
    feed(spy(kinds.APPEND_ENTRIES), notes)
    assert notes == ["monitor: cannot check the rules on RPCs: Raft.AppendEntries's args have "
                     "no Term (Figure 2's name, any case, underscores ignored)"]


def test_a_rule_that_reads_no_kind_of_event_is_refused() -> None:
    with pytest.raises(ValueError, match="rule 'spy' reads 'heartbeat', which is no kind"):
        feed(spy("heartbeat"))


def test_every_rule_names_its_source_in_the_paper_or_the_assignment() -> None:
    assert len(RULES) == len(SOURCES) == 10
    for rule_class in RULES:
        assert SOURCES[rule_class.name] == rule_class.source
        assert rule_class.source.startswith(("Figure ", "the assignment")), rule_class.name
        assert rule_class.reads, rule_class.name
