"""Install the patched primitives into threading, time and queue.

    install()     once per process, before the lab's modules bind names if
                  possible; names already bound (`from time import sleep`,
                  queue's `time`) are rebound in every module that holds the
                  real function, except pytest's own (its timings stay real)
    uninstall()   put everything back
    installed()

Installed primitives behave as the real ones in any thread that is not
running under a simulation, so installing changes nothing until a
Simulation adopts a thread.
"""

from __future__ import annotations

import _threading_local  # before install: it binds threading's real RLock
import queue
import sys
import threading
import time
from typing import Any, List, Tuple

from labsim import primitives as p

# (module, attribute, patched value); the real value is read at install.
_TABLE: List[Tuple[Any, str, Any]] = [
    (threading, "Lock", p.Lock),
    (threading, "RLock", p.RLock),
    (threading, "Condition", p.Condition),
    (threading.Thread, "start", p.thread_start),
    (threading.Thread, "join", p.thread_join),
    (threading.Thread, "is_alive", p.thread_is_alive),
    # A simulated thread runs on a reused OS thread (labsim.pool), so a
    # thread-local must be keyed by the Thread, as the Python version is.
    (threading, "local", _threading_local.local),
    (queue, "SimpleQueue", p.SimpleQueue),
    (time, "sleep", p.sleep),
    (time, "monotonic", p.monotonic),
    (time, "monotonic_ns", p.monotonic_ns),
    (time, "time", p.time),
    (time, "time_ns", p.time_ns),
    (time, "perf_counter", p.perf_counter),
    (time, "perf_counter_ns", p.perf_counter_ns),
]

# Modules whose bound names stay real: pytest's clocks time the real run,
# and the simulator's own modules keep the real things on purpose.
_KEEP_REAL = ("_pytest", "pytest", "pluggy", "labsim", "threading", "importlib", "_thread")

_saved: List[Tuple[Any, str, Any]] = []


def installed() -> bool:
    return bool(_saved)


def install() -> None:
    if _saved:
        return
    real_to_patched = {}
    for owner, name, patched in _TABLE:
        real = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        _saved.append((owner, name, real))
        setattr(owner, name, patched)
        if owner in (time, queue):
            real_to_patched[id(real)] = (real, patched)
    # Rebind names bound before now (`from queue import SimpleQueue`, `from
    # time import sleep`); threading's names are only ever patched in place.
    for module_name, module in list(sys.modules.items()):
        if module is None or module_name.startswith(_KEEP_REAL) or module in (time, queue):
            continue
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for attr, value in list(namespace.items()):
            found = real_to_patched.get(id(value))
            if found is not None and found[0] is value:
                _saved.append((module, attr, value))
                setattr(module, attr, found[1])
    # queue.Queue's timeouts read `from time import monotonic as time`.
    if queue.__dict__.get("time") is p.real_monotonic:
        _saved.append((queue, "time", p.real_monotonic))
        queue.time = p.monotonic  # type: ignore[attr-defined]


def uninstall() -> None:
    while _saved:
        owner, name, real = _saved.pop()
        setattr(owner, name, real)
