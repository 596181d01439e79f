"""The determinism check: compare two runs of one seed, event by event.

    first_divergence(a, b)   None if the traces are equal, else a sentence
                             naming the first event where they differ

A trace is the list of (thread number, event, virtual time in us) that a
Simulation(trace=True) records at every synchronisation point; thread
numbers are creation order, so they mean the same thing in both runs.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

Event = Tuple[int, str, int]


def _show(event: Optional[Event], names: Sequence[str]) -> str:
    if event is None:
        return "(the run had ended)"
    order, what, micros = event
    name = names[order] if order < len(names) else f"thread {order}"
    return f"thread #{order} ({name}) {what} at {micros / 1e6:.6f} s"


def first_divergence(a: List[Event], b: List[Event], names_a: Sequence[str] = (),
                     names_b: Sequence[str] = ()) -> Optional[str]:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return (f"the runs diverge at event {i}: first run: {_show(a[i], names_a)}; "
                    f"second run: {_show(b[i], names_b)}")
    if len(a) != len(b):
        later = a[n] if len(a) > n else None
        other = b[n] if len(b) > n else None
        return (f"the runs diverge at event {n}: first run: {_show(later, names_a)}; "
                f"second run: {_show(other, names_b)}")
    return None
