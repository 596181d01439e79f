"""Lists and dicts that report their reads and writes as the attribute's.

    value = watch(value, watcher, "log")   -- a list or dict stored in a peer's
                                              attribute, wrapped (other values
                                              are returned as they are)
    unwatched(value)                       -- the plain list or dict again

`self.log.append(e)` or `self.nextIndex[i] = n` without the lock are the
commonest races in a Python Raft, and to the attribute checker they are
only reads of self.log and self.nextIndex. Under the race checker a list
or dict stored in a peer's attribute is replaced, when assigned, by a
WatchedList or WatchedDict holding the same items: a subclass of list or
dict (isinstance, ==, slicing and iteration behave as before) whose
methods tell the peer's Watcher of each read and write, as accesses to
the attribute that holds it.

They encode as the plain list or dict they stand for: for labgob (persist,
RPC arguments), pickle, copy and deepcopy. The wrapper is a copy: two
attributes assigned one list hold two lists under the checker.

Not seen: what happens inside the items (self.log[3].Term = 1 is a read of
self.log), and reads a C function makes of a list given as its argument
(other + self.log, json.dumps(self.log)).
"""

from __future__ import annotations

from typing import Any, Callable

import labgob

LIST_READS = (
    "__getitem__", "__len__", "__iter__", "__reversed__", "__contains__", "index", "count",
    "copy", "__add__", "__mul__", "__rmul__", "__eq__", "__ne__", "__lt__", "__le__",
    "__gt__", "__ge__", "__repr__",
)
LIST_WRITES = (
    "__setitem__", "__delitem__", "__iadd__", "__imul__", "append", "extend", "insert",
    "pop", "remove", "clear", "sort", "reverse",
)
DICT_READS = (
    "__getitem__", "__len__", "__iter__", "__reversed__", "__contains__", "get", "keys",
    "values", "items", "copy", "__eq__", "__ne__", "__repr__", "__or__", "__ror__",
)
DICT_WRITES = (
    "__setitem__", "__delitem__", "__ior__", "pop", "popitem", "setdefault", "update",
    "clear",
)


def _recorded(base: type, name: str, write: bool) -> Callable[..., Any]:
    method = getattr(base, name)

    def recorded(self: Any, *args: Any, **kwargs: Any) -> Any:
        self._race_watcher.access(self._race_name, write)
        return method(self, *args, **kwargs)

    recorded.__name__ = recorded.__qualname__ = name
    recorded.__doc__ = method.__doc__
    return recorded


def _plain(base: type) -> Callable[..., Any]:
    def __reduce_ex__(self: Any, protocol: int) -> Any:  # noqa: N807
        # pickle, copy and deepcopy see the plain container.
        return base, (base(self),)
    return __reduce_ex__


def _watched_type(base: type, reads: tuple, writes: tuple) -> type:
    namespace: dict = {"__slots__": ("_race_watcher", "_race_name")}
    for name in reads:
        if hasattr(base, name):
            namespace[name] = _recorded(base, name, write=False)
    for name in writes:
        if hasattr(base, name):
            namespace[name] = _recorded(base, name, write=True)
    namespace["__reduce_ex__"] = _plain(base)
    namespace["__hash__"] = None
    namespace["__doc__"] = f"A {base.__name__} whose reads and writes count as its attribute's."
    return type(f"Watched{base.__name__.capitalize()}", (base,), namespace)


WatchedList = _watched_type(list, LIST_READS, LIST_WRITES)
WatchedDict = _watched_type(dict, DICT_READS, DICT_WRITES)
labgob.encode_as_plain(WatchedList, list)
labgob.encode_as_plain(WatchedDict, dict)


def watch(value: Any, watcher: Any, name: str) -> Any:
    kind = type(value)
    if kind is list:
        watched = WatchedList(value)
    elif kind is dict:
        watched = WatchedDict(value)
    elif kind is WatchedList or kind is WatchedDict:
        if value._race_watcher is watcher and value._race_name == name:
            return value  # self.log += [...] stores the same list again
        watched = kind(unwatched(value))
    else:
        return value
    watched._race_watcher = watcher
    watched._race_name = name
    return watched


def unwatched(value: Any) -> Any:
    kind = type(value)
    if kind is WatchedList:
        return list.copy(value)
    if kind is WatchedDict:
        return dict.copy(value)
    return value
