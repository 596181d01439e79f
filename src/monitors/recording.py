"""Whether a Config keeps a record of its run and checks it, and who hears of it.

    RAFT_MONITORS=0     monitors off (the Go lab's verdicts); on by default
                        (pytest --no-monitors and raft-grade --no-monitors set it)
    RAFT_RECORD=1 / 0   keep a record even with monitors off / never (which
                        turns the monitors off too); default: when monitors are on
    RAFT_RECORD_FAILED=DIR   the pytest plugin saves failed tests' records there

    record = new_record(test_name, peers, report)  -- a Record, or None when off
    listen(fn) / unlisten(fn)   -- fn(record) for each record made (records_of)
"""

from __future__ import annotations

import os
from typing import Callable, List, Optional

from labrpc.record import FORMAT, Record
from monitors import leader_votes, reply_terms, rules

MONITORS_ENV = "RAFT_MONITORS"
RECORD_ENV = "RAFT_RECORD"
RECORD_FAILED_ENV = "RAFT_RECORD_FAILED"

_OFF = ("0", "false", "no", "off")
_listeners: List[Callable[[Record], None]] = []


def _switch(name: str) -> Optional[bool]:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return None
    return value not in _OFF


def monitors_enabled() -> bool:
    return _switch(MONITORS_ENV) is not False and _switch(RECORD_ENV) is not False


def recording_enabled() -> bool:
    wanted = _switch(RECORD_ENV)
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
        reply_terms.attach(record, peers, report, note)
        leader_votes.attach(record, peers, report, note)
    for fn in list(_listeners):
        fn(record)
    return record
