"""Calls that block, checked for the peer's lock: Call, time.sleep, applyCh.put.

    end = GuardedEnd(end)          -- a ClientEnd whose Call is checked
    ch = GuardedChannel(applyCh)   -- an applyCh whose blocking put is checked
    mod = time_with_checked_sleep(time_module)
                                   -- the time module, its sleep checked
    Forwarding(obj)                -- the base of the wrappers: forwards every
                                      attribute, and says it is of obj's class

The lab's rule: never hold the peer's lock across an RPC, a sleep or a put
on applyCh (a put blocks until the service takes the message, and the
service may call into the peer). Each checked call asks, before it runs,
whether the calling thread holds a lock of a watched peer, and if so the
peer's Watcher reports it, naming the call and the line.

The wrappers forward everything else to the object they wrap, and say
they are of its class (isinstance(end, ClientEnd) holds), so Make's checks
and a student's own see what they expect. They check whatever queue they
are given: an unbounded queue.Queue, or a rendezvous channel whose put
waits for the reader.
"""

from __future__ import annotations

import types
from typing import Any

from racecheck.lockset import blocking_call


class Forwarding:
    """Forwards every attribute to the object it wraps, and says it is of its class."""

    __slots__ = ("_wrapped",)

    def __init__(self, wrapped: Any) -> None:
        object.__setattr__(self, "_wrapped", wrapped)

    def __getattr__(self, name: str) -> Any:
        return getattr(object.__getattribute__(self, "_wrapped"), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(object.__getattribute__(self, "_wrapped"), name, value)

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance() asks this
        return type(object.__getattribute__(self, "_wrapped"))

    def __repr__(self) -> str:
        return repr(object.__getattribute__(self, "_wrapped"))


class GuardedEnd(Forwarding):
    """A labrpc ClientEnd whose Call reports being made under the peer's lock."""

    __slots__ = ()

    def Call(self, svcMeth: str, args: Any, reply: Any) -> bool:
        blocking_call(f"Call({svcMeth!r})")
        return object.__getattribute__(self, "_wrapped").Call(svcMeth, args, reply)


class GuardedChannel(Forwarding):
    """applyCh, whose blocking put reports being made under the peer's lock."""

    __slots__ = ()

    def put(self, item: Any, *args: Any, **kwargs: Any) -> Any:
        # Passed on as given: a channel's put need not take block and timeout.
        if (args[0] if args else kwargs.get("block", True)):
            blocking_call("applyCh.put")
        return object.__getattribute__(self, "_wrapped").put(item, *args, **kwargs)


class _TimeWithCheckedSleep(types.ModuleType):
    """The time module as raft.py sees it under the checker."""

    def __init__(self, base: Any) -> None:
        super().__init__(base.__name__, base.__doc__)
        self._race_base = base

    def __getattr__(self, name: str) -> Any:
        # Looked up at each use: a simulator may replace time.monotonic later.
        return getattr(self._race_base, name)

    def sleep(self, seconds: float) -> None:
        blocking_call("time.sleep")
        self._race_base.sleep(seconds)


def time_with_checked_sleep(base: Any) -> Any:
    if isinstance(base, _TimeWithCheckedSleep):
        return base
    return _TimeWithCheckedSleep(base)


def checked_sleep(base: Any) -> Any:
    """A stand-in for `from time import sleep`."""
    def sleep(seconds: float) -> None:
        blocking_call("time.sleep")
        base(seconds)
    sleep._race_checked = True  # type: ignore[attr-defined]
    return sleep
