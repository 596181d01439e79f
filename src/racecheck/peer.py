"""Building a watched peer: make_watched(Make, peers, me, persister, applyCh, report=...).

While Make runs, raft.py's globals are swapped (and put back after):
    threading (and names imported from it)  -> locks that know their holder,
                                               and a Thread whose start() ends
                                               the peer's initialisation
    Raft                                    -> a subclass that reports every
                                               attribute access to a Watcher
raft.py's `time` (and a `sleep` imported from it) is replaced for good by
a stand-in whose sleep is checked (it forwards everything else), and the
ends and applyCh that Make receives are guarded (guards.py).

The subclass has the class's name (labrpc names the service after it). It
wraps lists and dicts when they are assigned (containers.py), and treats
each call of an RPC handler (a public method taking (args, reply), called
from outside raft.py) as a thread of its own: in Go each RPC runs in its
own goroutine, while labrpc here reuses its worker threads, which would
otherwise hide a race between two handler calls.
"""

from __future__ import annotations

import functools
import inspect
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional

from racecheck import containers, guards
from racecheck.locks import (OwnedLock, hand_threading, new_logical_number, put_back,
                             this_thread, threading_with_owned_locks)
from racecheck.lockset import Report, Watcher

EXEMPT = frozenset({"mu", "dead"})  # the lock itself, and Kill()'s flag
WATCHER = "_race_watcher"

_making = threading.local()  # .watcher: the peer Make is building in this thread

# Every report made, in order: the pytest glue shows those a test's failure
# message does not (a test that deadlocked on a lock held across a Call
# fails by its timeout, not by the report).
_reports: List[str] = []


def reports() -> List[str]:
    return list(_reports)


def forget_reports() -> None:
    del _reports[:]


def _watcher_of(peer: Any) -> Optional[Watcher]:
    return object.__getattribute__(peer, "__dict__").get(WATCHER)


def _handler_names(cls: type) -> list:
    """The methods labrpc would call as RPC handlers: public, (args, reply)."""
    names = []
    for name in dir(cls):
        function = getattr(cls, name, None)
        if name.startswith("_") or not inspect.isfunction(function):
            continue
        try:
            params = list(inspect.signature(function).parameters.values())
        except (TypeError, ValueError):
            continue
        if len(params) == 3 and all(p.kind == p.POSITIONAL_OR_KEYWORD for p in params):
            names.append(name)
    return names


def _as_own_thread(method: Callable[..., Any]) -> Callable[..., Any]:
    name = method.__name__
    home = method.__code__.co_filename

    @functools.wraps(method)
    def handler(self: Any, args: Any, reply: Any) -> Any:
        if sys._getframe(1).f_code.co_filename == home:
            # Called by the peer's own code: a plain call, on the same thread.
            return method(self, args, reply)
        info = this_thread()
        outer, outer_name = info.number, info.name
        info.number = new_logical_number()
        info.name = f"{outer_name} ({name} call #{info.number})"
        try:
            return method(self, args, reply)
        finally:
            info.number, info.name = outer, outer_name
    return handler


_watched_classes: Dict[type, type] = {}


def watched_class(cls: type) -> type:
    """A subclass of cls that tells its instance's Watcher of every access."""
    if cls in _watched_classes:
        return _watched_classes[cls]

    def __getattribute__(self: Any, name: str) -> Any:  # noqa: N807
        value = object.__getattribute__(self, name)
        if name not in EXEMPT:
            attrs = object.__getattribute__(self, "__dict__")
            if name in attrs:
                watcher = attrs.get(WATCHER)
                if watcher is not None and name != WATCHER:
                    watcher.access(name, False)
        return value

    def __setattr__(self: Any, name: str, value: Any) -> None:  # noqa: N807
        attrs = object.__getattribute__(self, "__dict__")
        watcher = attrs.get(WATCHER)
        if watcher is None:
            watcher = getattr(_making, "watcher", None)
            if watcher is None:  # built outside make_watched: not watched
                object.__setattr__(self, name, value)
                return
            attrs[WATCHER] = watcher
        if name not in EXEMPT:
            watcher.access(name, True)
            value = containers.watch(value, watcher, name)
        object.__setattr__(self, name, value)

    namespace: Dict[str, Any] = {
        "__getattribute__": __getattribute__,
        "__setattr__": __setattr__,
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__doc__": cls.__doc__,
    }
    for name in _handler_names(cls):
        namespace[name] = _as_own_thread(getattr(cls, name))
    # Same name as the class it watches: labrpc names the service after it.
    watched = type(cls.__name__, (cls,), namespace)
    _watched_classes[cls] = watched
    return watched


def _initialising_thread_class(base: type) -> type:
    class Thread(base):  # type: ignore[misc, valid-type]
        def start(self) -> None:
            # Make starts the peer's threads: from now on its state is shared.
            watcher = getattr(_making, "watcher", None)
            if watcher is not None:
                watcher.init_thread = None
            super().start()
    return Thread


def _swap_globals(module: Any, watched: Optional[type]) -> Dict[str, Any]:
    """Hand raft.py owner-aware locks (and the watched class) while Make runs."""
    base = getattr(module, "threading", threading)
    owned = threading_with_owned_locks(base)
    owned.Thread = _initialising_thread_class(base.Thread)
    saved = hand_threading(module, owned)
    if watched is not None:
        saved["Raft"] = module.Raft
        module.Raft = watched
    return saved


def _check_sleeps_in(module: Any) -> None:
    """raft.py's time.sleep (and a sleep imported from it) report a held lock."""
    for name, value in list(vars(module).items()):
        if value is time or (isinstance(value, type(time)) and value.__name__ == "time"):
            setattr(module, name, guards.time_with_checked_sleep(value))
        elif value is time.sleep and not getattr(value, "_race_checked", False):
            setattr(module, name, guards.checked_sleep(value))


def make_watched(make: Callable[..., Any], *args: Any, report: Report) -> Any:
    """Call make(*args) (raft's Make) with owner-aware locks; watch the peer."""
    module = sys.modules[make.__module__]
    given_report = report

    def report(text: str) -> None:
        _reports.append(text)
        given_report(text)

    original = getattr(module, "Raft", None)
    watched = watched_class(original) if isinstance(original, type) else None
    me = args[1] if len(args) > 1 else "?"
    watcher = Watcher(report, f"{getattr(original, '__name__', 'Raft')}[{me}]")
    if len(args) == 4:
        peers, me, persister, applyCh = args
        args = ([guards.GuardedEnd(end) for end in peers], me, persister,
                guards.GuardedChannel(applyCh))
    _check_sleeps_in(module)
    saved = _swap_globals(module, watched)
    _making.watcher = watcher
    watcher.init_thread = this_thread()
    try:
        peer = make(*args)
    finally:
        _making.watcher = None
        watcher.init_thread = None
        put_back(module, saved)
    if _watcher_of(peer) is not watcher:
        _watch_after_make(peer, watcher)
    _name_locks(peer, watcher, report)
    return peer


def _watch_after_make(peer: Any, watcher: Watcher) -> None:
    """Make built its peer with another class than raft.Raft: watch it now."""
    attrs = object.__getattribute__(peer, "__dict__")
    for name, value in list(attrs.items()):
        if name not in EXEMPT:
            attrs[name] = containers.watch(value, watcher, name)
    attrs[WATCHER] = watcher
    peer.__class__ = watched_class(type(peer))
    watcher.label = f"{type(peer).__name__}[{attrs.get('me', '?')}]"


def _name_locks(peer: Any, watcher: Watcher, report: Report) -> None:
    found = False
    for name, value in object.__getattribute__(peer, "__dict__").items():
        lock = getattr(value, "_lock", None) if not isinstance(value, OwnedLock) else value
        if isinstance(lock, OwnedLock):
            if isinstance(value, OwnedLock) or lock.watcher is None:
                lock.name = f"self.{name}"
            lock.watcher = watcher
            found = found or isinstance(value, OwnedLock)
    if not found:
        watcher.disabled = True
        report("race checker: the peer holds no lock made with threading.Lock() or "
               "threading.RLock() in raft.py (self.mu), so the checker cannot tell who "
               "holds it")
