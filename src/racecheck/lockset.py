"""Eraser's lockset rule over one peer's attributes, and the reports.

    w = Watcher(report, label)    -- one per peer; report(text) fails the test
    w.access(name, write, skip)   -- a read or write of attribute `name`
    w.blocking_call(call, lock, skip)
                                  -- `call` (time.sleep, ...) made holding `lock`

Every attribute has a state and a candidate lockset C (Savage et al.,
"Eraser", SOSP 1997):

    virgin           not touched since Make returned (Make's own accesses,
                     before it starts a thread, are initialisation)
    exclusive        one thread only so far; C is the locks held on all of
                     its accesses
    shared           a second thread has read it, nobody wrote it since
                     it became shared
    shared-modified  written by one thread and used by another

C is refined (intersected with the locks held) on every access. A race is
an attribute in shared-modified whose C is empty: some access held none of
the locks that every other access held. Because C only shrinks, the order
of the accesses does not matter: an unlocked read before the locked writes
is reported as surely as one after them.

Eraser stays silent on exclusive state; here the owner's accesses are
remembered, so that when the second thread comes a write by the owner
makes the attribute shared-modified at once ("written by one thread and
used by another"), with the owner's locks in C.

A report names the attribute, the first access that held none of C's
locks (with its stack) and a conflicting access by another thread (with
its stack, when recorded). Each attribute is reported once per peer.
"""

from __future__ import annotations

import os
import sys
import threading
import _thread
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

import labrpc
from racecheck.locks import OwnedLock, ThreadInfo, this_thread

Report = Callable[[str], None]

VIRGIN, EXCLUSIVE, SHARED, SHARED_MODIFIED = range(4)

STACK_DEPTH = 6
# Per attribute, the latest access of this many threads is kept (with its
# stack) to show as the other side of a race.
THREADS_KEPT = 4

# A stack as recorded: (code object, line) pairs, innermost first; turned
# into text only when a report needs it.
RawStack = List[Tuple[Any, int]]


_HERE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_LABRPC = os.path.dirname(os.path.abspath(labrpc.__file__)) + os.sep


def capture_stack(skip: int) -> RawStack:
    frame = sys._getframe(skip + 1)
    stack: RawStack = []
    while frame is not None and len(stack) < STACK_DEPTH:
        stack.append((frame.f_code, frame.f_lineno))
        frame = frame.f_back
    return stack


def format_stack(stack: RawStack) -> List[str]:
    here = os.getcwd()
    lines = []
    for code, line in stack:
        path = code.co_filename
        if path == threading.__file__ or path.startswith(_LABRPC):
            break  # the thread's start, or the network calling a handler
        if path.startswith(_HERE):
            continue  # the checker's own wrappers
        relative = os.path.relpath(path, here) if os.path.isabs(path) else path
        if not relative.startswith(".."):
            path = relative
        lines.append(f"    {path}:{line} in {code.co_name}")
    return lines


class Access:
    __slots__ = ("thread", "thread_name", "write", "held", "stack")

    def __init__(self, info: ThreadInfo, write: bool, stack: RawStack) -> None:
        self.thread = info.number
        self.thread_name = info.name
        self.write = write
        self.held: Tuple[OwnedLock, ...] = tuple(info.held)
        self.stack = stack

    def describe(self) -> str:
        what = "write" if self.write else "read"
        if self.held:
            locks = "holding " + ", ".join(lock.name for lock in self.held)
        else:
            locks = "WITHOUT the lock"
        return "\n".join([f"  {what} by thread {self.thread_name} {locks}, at:"]
                         + format_stack(self.stack))


class Shadow:
    """The checker's record of one attribute."""

    __slots__ = ("state", "owner", "owner_wrote", "lockset", "bare", "recent", "reported")

    def __init__(self) -> None:
        self.state = VIRGIN
        self.owner = 0
        self.owner_wrote = False
        self.lockset: Tuple[OwnedLock, ...] = ()
        # The first access that held none of the locks in the lockset.
        self.bare: Optional[Access] = None
        # thread number -> that thread's latest access (its latest write, if
        # it wrote since it became shared: the better other side of a race).
        self.recent: Dict[int, Access] = {}
        self.reported = False


class Watcher:
    """The accesses seen on one peer, and the races among them."""

    def __init__(self, report: Report, label: str) -> None:
        self.report = report
        self.label = label  # "Raft[1]"
        # While Make runs, the accesses of the thread that called it are
        # initialisation, until it starts a thread.
        self.init_thread: Optional[ThreadInfo] = None
        self.disabled = False
        self.shadows: Dict[str, Shadow] = {}
        # Guards the shadows. A raw lock: never a scheduling point of a
        # simulator, and never held while anything that could block runs.
        self.guard = _thread.allocate_lock()
        self.blocking_reported: Set[Tuple[str, Any, int]] = set()

    # --- the lockset rule --------------------------------------------------------

    def access(self, name: str, write: bool, skip: int = 1) -> None:
        info = this_thread()
        if info is self.init_thread or self.disabled:
            return
        current = Access(info, write, capture_stack(skip + 1))
        me = current.thread
        held = current.held
        race: Optional[Tuple[Access, Optional[Access]]] = None
        with self.guard:
            shadow = self.shadows.get(name)
            if shadow is None:
                shadow = self.shadows[name] = Shadow()
            state = shadow.state
            if state == VIRGIN:
                shadow.state = EXCLUSIVE
                shadow.owner = me
                shadow.owner_wrote = write
                shadow.lockset = held
                if not held:
                    shadow.bare = current
            elif state == EXCLUSIVE and shadow.owner == me:
                shadow.owner_wrote = shadow.owner_wrote or write
                self._refine(shadow, current)
            else:
                if state == EXCLUSIVE:
                    modified = write or shadow.owner_wrote
                    shadow.state = SHARED_MODIFIED if modified else SHARED
                elif write:
                    shadow.state = SHARED_MODIFIED
                self._refine(shadow, current)
                if (shadow.state == SHARED_MODIFIED and not shadow.lockset
                        and not shadow.reported):
                    shadow.reported = True
                    race = self._pair(shadow, current)
            kept = shadow.recent
            previous = kept.pop(me, None)
            if previous is not None and previous.write and not write:
                kept[me] = previous  # keep a thread's write rather than its reads
            else:
                kept[me] = current
                if len(kept) > THREADS_KEPT:
                    del kept[next(iter(kept))]
        if race is not None:
            self.report(self._race_text(name, *race))

    @staticmethod
    def _refine(shadow: Shadow, current: Access) -> None:
        lockset = shadow.lockset
        if not lockset:
            return
        held = current.held
        if all(lock in held for lock in lockset):
            return
        shadow.lockset = tuple(lock for lock in lockset if lock in held)
        if not shadow.lockset and shadow.bare is None:
            shadow.bare = current

    @staticmethod
    def _pair(shadow: Shadow, current: Access) -> Tuple[Access, Optional[Access]]:
        """The unlocked access to show, and one by another thread it races with.

        The first access that held none of the lockset's locks, or the
        current one if it holds no lock either; the other side is an access
        by another thread, one of the two a write (a write preferred).
        """
        unlocked = [shadow.bare] if shadow.bare is not None else []
        if not current.held:
            unlocked.append(current)
        kept = list(reversed(shadow.recent.values()))
        others = [current] + [a for a in kept if a.write] + [a for a in kept if not a.write]
        for side in unlocked:
            for other in others:
                if other.thread != side.thread and (other.write or side.write):
                    return side, other
        return (unlocked or [current])[0], None

    def _race_text(self, name: str, bare: Access, other: Optional[Access]) -> str:
        lines = [
            f"race on {self.label}.{name}: written by one thread and used by another, "
            "with no lock held on every access",
            bare.describe(),
        ]
        if other is not None:
            lines.append(other.describe())
        else:
            lines.append("  (the other thread's access was not recorded)")
        return "\n".join(lines)

    # --- blocking while holding the lock ---------------------------------------------

    def blocking_call(self, call: str, lock: OwnedLock, skip: int = 1) -> None:
        if self.disabled:
            return
        stack = capture_stack(skip + 1)
        code, line = stack[0]
        key = (call, code, line)
        with self.guard:
            if key in self.blocking_reported:
                return
            self.blocking_reported.add(key)
        info = this_thread()
        text = "\n".join(
            [f"{call} called while holding {self.label}'s lock {lock.name} "
             f"(thread {info.name}): never hold the lock across an RPC, a sleep "
             "or a put on applyCh, at:"] + format_stack(stack)
        )
        self.report(text)


def blocking_call(call: str, skip: int = 1) -> None:
    """Report call if the calling thread holds a lock of a watched peer."""
    for lock in this_thread().held:
        if lock.watcher is not None:
            lock.watcher.blocking_call(call, lock, skip + 1)
            return


__all__ = ["Watcher", "Access", "blocking_call", "capture_stack", "format_stack", "Report"]
