"""Whether a Config keeps a record of its run and checks it, and who hears of it.

    RAFT_MONITORS=0     monitors off (the Go lab's verdicts); on by default
                        (pytest --no-monitors sets it, and so does the grader's)
    RAFT_RECORD=1 / 0   keep a record even with monitors off / never (which
                        turns the monitors off too); default: when monitors are on
    RAFT_RECORD_FAILED=DIR   the pytest plugin saves failed tests' records there

    record = new_record(test_name, peers, report)  -- a Record, or None when off
                        (under labsim's shrinker it gets a "departure" event at
                        each of the run's departures from a calm run)
    listen(fn) / unlisten(fn)   -- fn(record) for each record made (records_of)
"""

from __future__ import annotations

from typing import Callable, List, Optional

import labsim
from labenv import switch
from labrpc.record import FORMAT, Record
from monitors import rules

MONITORS_ENV = "RAFT_MONITORS"
RECORD_ENV = "RAFT_RECORD"
RECORD_FAILED_ENV = "RAFT_RECORD_FAILED"

_listeners: List[Callable[[Record], None]] = []


def monitors_enabled() -> bool:
    return switch(MONITORS_ENV) is not False and switch(RECORD_ENV) is not False


def recording_enabled() -> bool:
    wanted = switch(RECORD_ENV)
    return monitors_enabled() if wanted is None else wanted


def listen(fn: Callable[[Record], None]) -> None:
    _listeners.append(fn)


def unlisten(fn: Callable[[Record], None]) -> None:
    if fn in _listeners:
        _listeners.remove(fn)


def new_record(test: str, peers: int, report: Callable[[str], None],
               note: Callable[[str], None] = print) -> Optional[Record]:
    """A record for a new cluster, with the monitors on it if they are on."""
    if not recording_enabled():
        return None
    record = Record()
    record.add("meta", test=test, peers=peers, format=FORMAT,
               monitors=monitors_enabled())
    if monitors_enabled():
        rules.attach(record, peers, report, note)
    sim = labsim.active()
    if sim is not None and sim.choices is not None:
        sim.choices.note_in(record)
    for fn in list(_listeners):
        fn(record)
    return record
