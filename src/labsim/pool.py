"""OS threads reused from one simulated thread to the next.

Starting an OS thread costs about 60 us on these machines, and a Raft run
starts hundreds (one per RPC sent): under the simulation that was a third
of a run's time. So a threading.Thread started under a simulation runs on
an idle worker of this pool. The worker waits on a raw lock that becomes
the new thread's baton: the thread's first turn is an ordinary hand-off,
and starting it costs no OS thread and no start-up handshake.

    worker = take()        an idle worker (a new OS thread if none is idle)
    give_back(worker)      one taken but not used after all
    worker.job = fn        set before the worker's lock is first released;
                           fn runs then, and the worker is idle again after
    close()                end the idle workers (pytest's end under --sim, and
                           at exit for labsim.run() outside pytest)

Between two jobs a worker is reset as a new OS thread would be fresh: each
job runs in an empty contextvars.Context, with threading's trace and
profile hooks installed (as threading's own bootstrap does) and removed
after. What cannot be reset from Python is a C-level threading.local made
before labsim was installed; the lab's own such locals are reset by their
users after each use, and patching makes later ones Python-level
(keyed by the Thread object, not by the OS thread).
"""

from __future__ import annotations

import _thread
import atexit
import contextvars
import sys
import threading
import traceback
from typing import Any, Callable, List, Optional

from labsim.errors import SimFailure, SimKilled


class Worker:
    __slots__ = ("lock", "job", "ident", "native_id")

    def __init__(self) -> None:
        # Held while the worker waits; released once to give it a job's
        # first turn (the scheduler's baton), or with no job to end it.
        self.lock = _thread.allocate_lock()
        self.lock.acquire()
        self.job: Optional[Callable[[], None]] = None
        self.ident = 0
        self.native_id = 0
        ready = _thread.allocate_lock()
        ready.acquire()
        _thread.start_new_thread(self._main, (ready,))
        ready.acquire()  # ident and native_id are set

    def _main(self, ready: Any) -> None:
        self.ident = _thread.get_ident()
        self.native_id = _thread.get_native_id()
        ready.release()
        while True:
            self.lock.acquire()
            job, self.job = self.job, None
            if job is None:
                return
            trace = getattr(threading, "_trace_hook", None)
            profile = getattr(threading, "_profile_hook", None)
            if trace is not None:
                sys.settrace(trace)
            if profile is not None:
                sys.setprofile(profile)
            try:
                contextvars.Context().run(job)
            except (SimKilled, SimFailure):
                # Only a stray asynchronous exception (the watchdog's) lands
                # here; the worker must survive it, or the next thread given
                # to it never runs.
                pass
            except BaseException:
                traceback.print_exc()  # a bug of the simulator's: say so, go on
            finally:
                # job, and all it refers to, must not outlive the thread: an
                # idle worker would keep the last run's world alive.
                job = None
                if trace is not None:
                    sys.settrace(None)
                if profile is not None:
                    sys.setprofile(None)
            _idle.append(self)


_idle: List[Worker] = []
_created = 0


def take() -> Worker:
    """An idle worker, its lock held; a new one when none is idle."""
    global _created
    try:
        return _idle.pop()
    except IndexError:
        _created += 1
        return Worker()


def give_back(worker: Worker) -> None:
    """Return a worker taken but never given a job."""
    _idle.append(worker)


def created() -> int:
    """How many OS threads the pool has started in this process."""
    return _created


def idle() -> int:
    return len(_idle)


def close() -> None:
    """End every idle worker (each returns from its loop at once)."""
    while _idle:
        worker = _idle.pop()
        worker.job = None
        worker.lock.release()


atexit.register(close)
