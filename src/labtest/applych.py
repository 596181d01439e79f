"""applyCh as Go has it: an unbuffered channel of ApplyMsgs.

    ch = ApplyChannel(peer, on_deadlock)
    ch.put(msg)             -- the peer: waits until the tester takes msg
    ch.get()                -- the tester: waits for a message (CLOSED once closed)
    with ch.reader_calls("Snapshot(19)"): rf.Snapshot(...)
                            -- the tester marks its calls into the peer
    ch.close()              -- the peer is gone: get returns CLOSED, and a
                               waiting or later put returns at once

A put in Go's lab blocks until the tester's reader receives, so a peer that
holds its lock while it puts, while the reader calls Snapshot (which wants
that lock), deadlocks. Here it deadlocks the same way, and is reported: a
put that has waited DEADLOCK_S while the reader has been inside a call into
the peer for as long calls on_deadlock(message) once, naming both threads
and where each one waits; then the channel is closed, which breaks the
deadlock (the put returns, its message dropped), so that the test's own
thread, which may be waiting for the same lock in Start or GetState, gets
to its next check and fails there, rather than at its timeout.
"""

from __future__ import annotations

import queue
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Optional, Tuple

from labtest import threadview

# How long a put and the reader's call into the peer must both have waited
# before it is called a deadlock: the reader's calls take microseconds.
DEADLOCK_S = 1.0
# How often a waiting put looks for the deadlock.
POLL_S = 0.25

CLOSED = object()  # what get() returns once the channel is closed
_EMPTY = object()


class ApplyChannel:
    """An unbuffered channel with a Queue's put/get (see the module docstring)."""

    def __init__(self, peer: int = 0,
                 on_deadlock: Optional[Callable[[str], None]] = None) -> None:
        self.peer = peer
        self._on_deadlock = on_deadlock
        self._cond = threading.Condition()
        self._offer: Any = _EMPTY  # the message a put is offering
        self._offered = 0  # puts that have offered a message
        self._taken = 0  # messages the reader took
        self._readers = 0  # readers waiting in get
        self._closed = False
        self._reported = False
        # While the reader calls into the peer: (what, since, thread).
        self._reader_in: Optional[Tuple[str, float, threading.Thread]] = None

    def put(self, item: Any, block: bool = True, timeout: Optional[float] = None) -> None:
        """Give item to the reader; return once it took it.

        block=False or a timeout behave as Queue's: queue.Full if the reader
        did not take it in time (Go's select with a default or a timer).
        """
        deadline = None if block and timeout is None else \
            time.monotonic() + (timeout if block else 0.0)
        with self._cond:
            while self._offer is not _EMPTY and not self._closed:
                if not self._wait(deadline):
                    raise queue.Full
            if self._closed:
                return  # the peer was killed: nobody reads any more
            if not block and self._readers == 0:
                raise queue.Full
            self._offer = item
            self._offered += 1
            ticket = self._offered
            self._cond.notify_all()
            began = time.monotonic()
            while self._taken < ticket and not self._closed:
                if not self._wait(deadline if deadline is not None else
                                  time.monotonic() + POLL_S):
                    if deadline is not None:
                        self._offer = _EMPTY
                        self._offered -= 1
                        self._cond.notify_all()
                        raise queue.Full
                    self._look_for_deadlock(began, item)

    def _wait(self, deadline: Optional[float]) -> bool:
        """Wait for a change; False if deadline passed first."""
        if deadline is None:
            self._cond.wait()
            return True
        left = deadline - time.monotonic()
        return left > 0 and (self._cond.wait(left) or time.monotonic() < deadline)

    def get(self) -> Any:
        """Take the next message (waiting for one), or CLOSED."""
        with self._cond:
            self._readers += 1
            try:
                while self._offer is _EMPTY and not self._closed:
                    self._cond.wait()
                if self._offer is _EMPTY:
                    return CLOSED
                item, self._offer = self._offer, _EMPTY
                self._taken += 1
                self._cond.notify_all()
                return item
            finally:
                self._readers -= 1

    @contextmanager
    def reader_calls(self, what: str) -> Iterator[None]:
        """Mark that the reader is inside a call into the peer (what)."""
        with self._cond:
            self._reader_in = (what, time.monotonic(), threading.current_thread())
        try:
            yield
        finally:
            with self._cond:
                self._reader_in = None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _look_for_deadlock(self, began: float, item: Any) -> None:
        now = time.monotonic()
        reader = self._reader_in
        if (self._reported or reader is None or self._on_deadlock is None
                or now - began < DEADLOCK_S or now - reader[1] < DEADLOCK_S):
            return
        self._reported = True
        putter = threading.current_thread()
        what, since, thread = reader
        index = getattr(item, "CommandIndex", None) or getattr(item, "SnapshotIndex", None)
        message = (
            f"applyCh deadlock: S{self.peer}'s thread {putter.name} has waited "
            f"{now - began:.1f} s in applyCh.put(ApplyMsg index {index}) for the tester to "
            f"take it, while the tester's reader ({thread.name}) has waited "
            f"{now - since:.1f} s in rf.{what}, which needs S{self.peer}'s lock. "
            "Go's applyCh blocks the same way: a peer must not hold its lock while it "
            "puts on applyCh.\n"
            f"  {putter.name} waits in put here:\n{_stack(putter)}"
            f"  {thread.name} waits for the lock here:\n{_stack(thread)}"
        )
        # Report without the channel's lock: the report may take locks of its own.
        self._cond.release()
        try:
            self._on_deadlock(message)
        finally:
            self._cond.acquire()
        self._closed = True
        self._cond.notify_all()


def _stack(thread: threading.Thread) -> str:
    """The student's frames (and the harness's) of a thread, innermost last."""
    return "".join(line + "\n" for line in threadview.short_stack(threadview.frame_of(
        thread.ident)))
