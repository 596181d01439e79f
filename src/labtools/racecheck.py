"""A race checker for Raft peers: the lockset idea of Eraser (SOSP 1997).

Go has -race; this is the Python lab's stand-in. Turn it on with RAFT_RACE=1
(or `pytest --race`, or `raft-stress --race`). The harness then
builds every peer with a lock that knows its owner and watches the peer's
attributes: two accesses to one attribute by different threads, at least one
a write, that do not both hold the peer's lock, are a race. The report names
the attribute, both threads, and where each access was made, and the test
fails with it.

What it sees, and what it does not:
- attributes of the peer object (self.currentTerm = ..., self.votedFor);
  an attribute never written after Make() returns cannot race, so state set
  once in Make is exempt, and so are the lock itself and `dead`;
- not the inside of a container: self.log.append(x) reads self.log, it does
  not write it;
- the peer's lock must be made with threading.Lock() inside raft.py (the
  harness hands raft.py a threading module whose Lock knows its owner).

It makes the peers slower: every attribute access is recorded.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
import traceback
import types
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

ENV_VAR = "RAFT_RACE"
EXEMPT = frozenset({"mu", "dead"})
STACK_DEPTH = 6
THREADS_KEPT = 8  # the latest accesses kept per attribute, one per thread

Report = Callable[[str], None]


def enabled() -> bool:
    return os.environ.get(ENV_VAR, "").strip().lower() not in ("", "0", "false", "no", "off")


class OwnedLock:
    """A lock that knows which thread holds it (threading.Lock does not)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: Optional[int] = None

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        got = self._lock.acquire(blocking, timeout)
        if got:
            self._owner = threading.get_ident()
        return got

    def release(self) -> None:
        self._owner = None
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    def held_by_me(self) -> bool:
        return self._owner == threading.get_ident()

    # threading.Condition asks a lock this, when the lock can answer.
    _is_owned = held_by_me

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc_info: Any) -> None:
        self.release()


def threading_with_owned_locks() -> types.SimpleNamespace:
    """A stand-in for the threading module whose Lock is an OwnedLock."""
    namespace = types.SimpleNamespace(**vars(threading))
    namespace.Lock = OwnedLock
    return namespace


_thread_numbers = itertools.count(1)
_thread_ids = threading.local()


def _this_thread() -> int:
    """A number for the calling thread that, unlike its ident, is never reused."""
    number = getattr(_thread_ids, "number", None)
    if number is None:
        number = _thread_ids.number = next(_thread_numbers)
    return number


@dataclass
class Access:
    thread: str
    write: bool
    locked: bool
    stack: List[Tuple[str, int, str]]

    def describe(self) -> str:
        what = "write" if self.write else "read"
        lock = "holding the lock" if self.locked else "WITHOUT the lock"
        lines = [f"  {what} by thread {self.thread} {lock}, at:"]
        lines += [f"    {file}:{line} in {func}" for file, line, func in self.stack]
        return "\n".join(lines)


def _stack() -> List[Tuple[str, int, str]]:
    frames = traceback.extract_stack(sys._getframe(3), limit=STACK_DEPTH)
    return [(frame.filename, frame.lineno or 0, frame.name) for frame in reversed(frames)]


class Watcher:
    """The accesses seen on one peer, and the races among them."""

    def __init__(self, peer_name: str, lock: OwnedLock, report: Report) -> None:
        self.peer_name = peer_name
        self.lock = lock
        self.report = report
        self.guard = threading.Lock()  # guards the records below
        self.latest: Dict[str, Dict[int, Access]] = {}
        self.reported: Set[str] = set()

    def access(self, name: str, write: bool) -> None:
        me = _this_thread()
        current = Access(threading.current_thread().name, write, self.lock.held_by_me(),
                         _stack())
        with self.guard:
            seen = self.latest.setdefault(name, {})
            race = None
            if name not in self.reported:
                for thread, other in seen.items():
                    if thread != me and (write or other.write) and not (
                        current.locked and other.locked
                    ):
                        race = other
                        break
            seen.pop(me, None)
            seen[me] = current
            if len(seen) > THREADS_KEPT:
                del seen[next(iter(seen))]
            if race is not None:
                self.reported.add(name)
        if race is not None:
            self.report(
                f"race on {self.peer_name}.{name}: two threads, not both holding the "
                f"peer's lock\n{current.describe()}\n{race.describe()}"
            )


_watched_classes: Dict[type, type] = {}


def _watched_class(cls: type) -> type:
    """A subclass of cls that tells its instance's Watcher of every access."""
    if cls in _watched_classes:
        return _watched_classes[cls]

    def __getattribute__(self: Any, name: str) -> Any:  # noqa: N807
        value = object.__getattribute__(self, name)
        if name not in EXEMPT and not name.startswith("__"):
            attrs = object.__getattribute__(self, "__dict__")
            if name in attrs and name != "_race_watcher":
                attrs["_race_watcher"].access(name, write=False)
        return value

    def __setattr__(self: Any, name: str, value: Any) -> None:  # noqa: N807
        if name not in EXEMPT:
            object.__getattribute__(self, "_race_watcher").access(name, write=True)
        object.__setattr__(self, name, value)

    # Same name as the class it watches: labrpc names the service after it.
    watched = type(cls.__name__, (cls,), {
        "__getattribute__": __getattribute__,
        "__setattr__": __setattr__,
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
    })
    _watched_classes[cls] = watched
    return watched


def make_watched(make: Callable[..., Any], *args: Any, report: Report) -> Any:
    """Call make(*args) (raft's Make) with owner-aware locks; watch the peer."""
    module = sys.modules[make.__module__]
    real = getattr(module, "threading", None)
    module.threading = threading_with_owned_locks()
    try:
        peer = make(*args)
    finally:
        if real is None:
            del module.threading
        else:
            module.threading = real
    lock = getattr(peer, "mu", None)
    if not isinstance(lock, OwnedLock):
        report("race checker: the peer's lock (self.mu) was not made with threading.Lock() "
               "in raft.py, so the checker cannot tell who holds it")
        return peer
    name = f"{type(peer).__name__}[{getattr(peer, 'me', '?')}]"
    object.__setattr__(peer, "_race_watcher", Watcher(name, lock, report))
    peer.__class__ = _watched_class(type(peer))
    return peer
