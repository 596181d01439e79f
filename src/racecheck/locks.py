"""Locks that know their holder, and which locks each thread holds.

    info = this_thread()          -- the calling thread's record: .number, .name, .held
    lock = OwnedLock()            -- a Lock; lock.held_by_me(), lock.name, lock.watcher
    lock = OwnedRLock()           -- the same, re-entrant
    ns = threading_with_owned_locks(base)
                                  -- base (the threading module, or what stands in
                                     for it) with Lock, RLock and Condition made of
                                     the above; handed to raft.py while Make runs
    ns = threading_with_locks(base, lock, rlock)
                                  -- the same with any lock factories (the lab's
                                     lock watchdog hands raft.py its own)
    saved = hand_threading(module, ns); ...; put_back(module, saved)
                                  -- module's threading names pointed at ns, and back

The lockset rule needs, at every access, the set of locks the accessing
thread holds: each thread keeps a list (info.held) that these locks update
on acquire and release. They are built only on the acquire/release/locked
of the lock they wrap, made by base.Lock at creation time, so they wrap a
simulator's cooperative lock as well as a real one.
"""

from __future__ import annotations

import itertools
import threading
import types
from typing import Any, Callable, Dict, List, Optional

_numbers = itertools.count(1)


class ThreadInfo:
    """What the checker knows about one thread.

    number names a logical thread: never reused (unlike an ident), and
    changed for the length of each RPC handler call (see peer.py).
    """

    __slots__ = ("number", "name", "held")

    def __init__(self) -> None:
        self.number = next(_numbers)
        self.name = threading.current_thread().name
        self.held: List["OwnedLock"] = []


def this_thread() -> ThreadInfo:
    # Kept on the Thread object, not in a threading.local: under the
    # simulation one OS thread runs many threads in turn (labsim.pool).
    thread = threading.current_thread()
    info = thread.__dict__.get("_racecheck_info")
    if info is None:
        info = thread.__dict__["_racecheck_info"] = ThreadInfo()
    return info


def new_logical_number() -> int:
    return next(_numbers)


class OwnedLock:
    """A lock that knows which thread holds it (threading.Lock does not)."""

    def __init__(self, lock: Any = None) -> None:
        self._lock = threading.Lock() if lock is None else lock
        self._holder: Optional[ThreadInfo] = None
        # Set by the checker once the peer is built: "self.mu", and the
        # Watcher of the peer it guards (where blocking calls are reported).
        self.name = "a lock made in raft.py"
        self.watcher: Any = None

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        got = self._lock.acquire(blocking, timeout)
        if got:
            info = this_thread()
            self._holder = info
            info.held.append(self)
        return got

    def release(self) -> None:
        holder = self._holder
        if holder is not None:
            # Forget the holder first: once released, another thread may
            # take the lock at once and record itself.
            self._holder = None
            _forget(holder.held, self)
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    def held_by_me(self) -> bool:
        return self._holder is not None and self._holder is this_thread()

    # What threading.Condition (and a simulator's stand-in) asks of a lock.
    _is_owned = held_by_me

    def _release_save(self) -> None:
        self.release()

    def _acquire_restore(self, _state: None) -> None:
        self.acquire()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc_info: Any) -> None:
        self.release()

    def __repr__(self) -> str:
        state = "locked" if self.locked() else "unlocked"
        return f"<{type(self).__name__} {self.name} {state}>"


class OwnedRLock(OwnedLock):
    """A re-entrant OwnedLock, counted here over a plain lock."""

    def __init__(self, lock: Any = None) -> None:
        super().__init__(lock)
        self._count = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        info = this_thread()
        if self._holder is info:
            self._count += 1
            return True
        got = self._lock.acquire(blocking, timeout)
        if got:
            self._holder = info
            self._count = 1
            info.held.append(self)
        return got

    def release(self) -> None:
        info = this_thread()
        if self._holder is not info:
            raise RuntimeError("cannot release un-acquired lock")
        self._count -= 1
        if self._count == 0:
            self._holder = None
            _forget(info.held, self)
            self._lock.release()

    def _release_save(self) -> Any:
        # Condition.wait releases an RLock however deep it is held.
        count, self._count = self._count, 1
        self.release()
        return count

    def _acquire_restore(self, count: Any) -> None:
        self.acquire()
        self._count = count


def _forget(held: List[OwnedLock], lock: OwnedLock) -> None:
    for i in range(len(held) - 1, -1, -1):
        if held[i] is lock:
            del held[i]
            return


def threading_with_locks(base: Any, lock: Callable[[], Any],
                         rlock: Callable[[], Any]) -> types.SimpleNamespace:
    """base (a threading module, or what stands in for it) with Lock and
    RLock made by lock() and rlock(), and a Condition whose own lock is an
    rlock(): what raft.py is handed while Make runs (see hand_threading)."""
    namespace = types.SimpleNamespace(**{
        name: value for name, value in vars(base).items() if not name.startswith("__")
    })
    namespace.Lock = lock
    namespace.RLock = rlock

    def condition(given: Any = None) -> Any:
        # threading.Condition() makes its own RLock; make it one of ours.
        return base.Condition(rlock() if given is None else given)

    namespace.Condition = condition
    return namespace


def threading_with_owned_locks(base: Any = threading) -> types.SimpleNamespace:
    """base (a threading module) whose Lock, RLock and Condition know their holder."""
    return threading_with_locks(base, lambda: OwnedLock(base.Lock()),
                                lambda: OwnedRLock(base.Lock()))


def hand_threading(module: Any, namespace: Any) -> Dict[str, Any]:
    """Point module's names for its threading (the module, and Lock, RLock,
    Condition and Thread imported from it) at namespace's; returns what was
    replaced, for put_back. The threading module is module.threading when
    it has one (a simulator's or another checker's stand-in), else the real one."""
    base = getattr(module, "threading", threading)
    swaps = {id(base): namespace}
    for name in ("Lock", "RLock", "Condition", "Thread"):
        swaps[id(getattr(base, name))] = getattr(namespace, name)
    saved: Dict[str, Any] = {}
    for name, value in list(vars(module).items()):
        replacement = swaps.get(id(value))
        if replacement is not None:
            saved[name] = value
            setattr(module, name, replacement)
    return saved


def put_back(module: Any, saved: Dict[str, Any]) -> None:
    for name, value in saved.items():
        setattr(module, name, value)
