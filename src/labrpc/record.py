"""The record of a run: every event, in order, as plain data.

    rec = Record()                      -- t of an event = seconds since rec began
    rec.add("harness", action="crash", peer=2)  -> the event (a dict)
    rec.events                          -- every event, in seq order
    rec.subscribe(fn)                   -- fn(event) after each add (the monitors)
    rec.flush()                         -- fn.flush() of each subscriber that batches
    rec.save(path); Record.load(path)   -- JSON lines, one event a line

An event is {"seq": n, "t": seconds, "kind": ..., **fields}. labrpc adds one
"rpc" event per call when the caller's Call returns (see plain() for how the
args and reply become fields); the Raft harness adds the rest. The record
knows nothing of Raft: the kinds and fields are documented in
docs/monitors.md ("Record format").

Subscribers run in the adding thread, under the record's lock, so they see
events one at a time and in seq order; they must be quick and must not add
events themselves. A subscriber may keep events to handle them later in a
batch: it then has a flush() method, which flush() calls under the lock.
"""

from __future__ import annotations

import _thread
import base64
import json
import os
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Union

__all__ = ["Record", "plain", "FORMAT"]

# The version of the saved format (the "format" field of the meta event).
FORMAT = 1

Event = Dict[str, Any]


def plain(value: Any) -> Any:
    """value as JSON-ready data: an object becomes a dict of its fields.

    Lists and tuples become lists, dicts keep their keys (as str), bytes stay
    bytes (save() writes them as {"$bytes": base64}), anything else that JSON
    cannot hold becomes its repr().
    """
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    fields = getattr(value, "__dict__", None)
    if fields is None:
        slots = [name for cls in type(value).__mro__ for name in getattr(cls, "__slots__", ())]
        fields = {name: getattr(value, name) for name in slots if hasattr(value, name)}
        if not fields:
            return repr(value)
    return {name: plain(item) for name, item in fields.items() if not name.startswith("_")}


def _to_json(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {key: _to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_to_json(item) for item in value]
    return value


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and "$bytes" in value:
            return base64.b64decode(value["$bytes"])
        return {key: _from_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_json(item) for item in value]
    return value


class Record:
    """An append-only list of events, with subscribers."""

    def __init__(self, clock: Optional[Callable[[], float]] = None) -> None:
        # time.monotonic looked up now, not when this module was imported: a
        # simulation (labsim) replaces it with its virtual clock after that.
        self.clock = clock or time.monotonic
        self.began = self.clock()
        self.events: List[Event] = []
        self._subscribers: List[Callable[[Event], None]] = []
        self._mu = threading.Lock()
        self._append_mu = _thread.allocate_lock()

    def now(self) -> float:
        """Seconds since the record began."""
        return self.clock() - self.began

    def add(self, kind: str, **fields: Any) -> Event:
        """Append an event; its t is now, its seq the next number."""
        with self._mu:
            event = self._append(kind, fields)
            for fn in self._subscribers:
                fn(event)
        return event

    def add_note(self, kind: str, **fields: Any) -> Event:
        """Append an event that no subscriber hears of (a DPrintf line).

        It skips the record's lock: under a simulation (labsim) taking that
        lock is a scheduling point, and turning debug output on must not
        change which run a seed gives.
        """
        return self._append(kind, fields)

    def _append(self, kind: str, fields: Dict[str, Any]) -> Event:
        # A raw lock, which a simulation leaves real; nothing inside it waits.
        with self._append_mu:
            event = {"seq": len(self.events), "t": self.clock() - self.began, "kind": kind}
            event.update(fields)
            self.events.append(event)
        return event

    def flush(self) -> None:
        """Let every subscriber that batches events handle those it holds."""
        with self._mu:
            for fn in self._subscribers:
                flush = getattr(fn, "flush", None)
                if flush is not None:
                    flush()

    def subscribe(self, fn: Callable[[Event], None]) -> None:
        """Call fn(event) after each later add (in the adding thread)."""
        with self._mu:
            self._subscribers.append(fn)

    def of_kind(self, kind: str) -> List[Event]:
        with self._mu:
            return [event for event in self.events if event["kind"] == kind]

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Write the events as JSON lines."""
        with self._mu:
            events = list(self.events)
        with open(path, "w") as out:
            for event in events:
                out.write(json.dumps(_to_json(event), default=repr) + "\n")

    @classmethod
    def load(cls, path: Union[str, os.PathLike]) -> "Record":
        """A record read back from save()'s file; its clock is unused."""
        record = cls()
        with open(path) as source:
            for number, line in enumerate(source, start=1):
                if not line.strip():
                    continue
                try:
                    event = _from_json(json.loads(line))
                except json.JSONDecodeError as err:
                    raise ValueError(f"{path}:{number}: not a JSON event: {err}") from None
                if not isinstance(event, dict) or not {"seq", "t", "kind"} <= set(event):
                    raise ValueError(f"{path}:{number}: an event needs seq, t and kind")
                record.events.append(event)
        return record
