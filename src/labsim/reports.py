"""Reports of a simulated run: every thread, what it waits for, its stack.

    threads_report(sim, title)   the text of a deadlock, busy-loop or
                                 time-limit report
"""

from __future__ import annotations

import sys
import traceback
from typing import Any, List

STACK_LIMIT = 12
# Frames of the simulator itself say nothing about the student's code.
_OWN_FILES = ("labsim/core.py", "labsim/primitives.py", "labsim/reports.py",
              "labsim/pool.py")
_THREAD_START = frozenset({"_bootstrap", "_bootstrap_inner", "run"})


def describe_wait(sim: Any, what: Any) -> str:
    """What a thread waits for, in words; names a lock's holder."""
    if what is None:
        return "nothing"
    if isinstance(what, str):
        return what
    if isinstance(what, tuple) and len(what) == 2 and isinstance(what[0], str):
        return f"{what[0]} (was: {describe_wait(sim, what[1])})"
    describe = getattr(what, "_labsim_describe", None)
    if describe is not None:
        return describe(sim)
    return f"{type(what).__name__} at {id(what):#x}"


def _stack(ident: Any) -> List[str]:
    frame = sys._current_frames().get(ident) if ident is not None else None
    if frame is None:
        return ["    (no stack: the thread has not started or has ended)\n"]
    lines = []
    for entry in traceback.extract_stack(frame)[-STACK_LIMIT:]:
        filename = entry.filename.replace("\\", "/")
        if filename.endswith(_OWN_FILES) or "/_pytest/" in filename or "/pluggy/" in filename \
                or (
                filename.endswith("/threading.py") and entry.name in _THREAD_START):
            continue
        lines.append(f'    File "{entry.filename}", line {entry.lineno}, in {entry.name}\n')
        if entry.line:
            lines.append(f"      {entry.line}\n")
    return lines


def threads_report(sim: Any, title: str) -> str:
    out = [f"{title}\n",
           f"  (virtual time {sim.clock.elapsed:.3f} s, step {sim.steps}, seed {sim.seed}, "
           f"strategy {sim.strategy.name})\n"]
    for rec in sim.records:
        if rec.done:
            continue
        if rec is sim.current and rec.runnable:
            state = "running"
        elif rec.runnable:
            state = "runnable"
        else:
            state = "waits for " + describe_wait(sim, rec.waiting_for)
            if rec.deadline is not None:
                state += f" until {rec.deadline:.3f} s"
        out.append(f"- thread {rec.name}: {state}\n")
        out.extend(_stack(rec.ident))
    return "".join(out)
