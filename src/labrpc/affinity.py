"""Keep the simulated cluster on one CPU.

Python's GIL lets one thread run Python at a time, so spreading the
simulation's threads over CPUs buys no parallelism; it only makes every
hand-off between a caller and a handler thread wake another CPU. On the
course's 2-CPU machines that wake-up costs about four times as much as a
switch on one CPU (measured: 47 us against 12 us for a round trip between
two threads), and an RPC needs two of them.

LABRPC_CPU chooses: "auto" (default) pins to the CPU this thread runs on now,
a number pins to that CPU, "off" leaves the scheduler alone. Pinning applies
to the calling thread and the threads it starts afterwards; platforms
without sched_setaffinity are left alone.
"""

from __future__ import annotations

import os
from typing import Optional, Set

ENV_VAR = "LABRPC_CPU"


def _current_cpu() -> Optional[int]:
    try:
        with open("/proc/thread-self/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return int(fields[36])  # field 39 of proc(5), "processor"
    except (OSError, IndexError, ValueError):
        return None


def pin_to_one_cpu() -> Optional[int]:
    """Pin the calling thread (and its future threads) to one CPU; return it."""
    choice = os.environ.get(ENV_VAR, "auto").strip().lower()
    if choice == "off" or not hasattr(os, "sched_setaffinity"):
        return None
    allowed: Set[int] = os.sched_getaffinity(0)
    if choice == "auto":
        if len(allowed) == 1:
            return next(iter(allowed))
        cpu = _current_cpu()
        if cpu not in allowed:
            cpu = min(allowed)
    else:
        try:
            cpu = int(choice)
        except ValueError:
            raise ValueError(
                f"{ENV_VAR}={choice!r}: expected 'auto', 'off' or a CPU number"
            ) from None
        if cpu not in allowed:
            # The number names a slot (the stress runner hands out 0, 1, ...);
            # map it onto the CPUs this process may use.
            cpu = sorted(allowed)[cpu % len(allowed)]
    os.sched_setaffinity(0, {cpu})
    return cpu
