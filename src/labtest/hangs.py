"""Reports of a hung test a student can read, and a process that always ends.

    text = threads_report(title, name)
                      -- the threads that matter (those in the code under test
                         and the tests: the peers' and the tester's), grouped by
                         what they wait for; every thread's whole stack goes to
                         a file, whose path the text ends with
    text = leftover_report(threads)
                      -- the threads that would keep the process alive at exit,
                         and where each one is
    FULL_DUMPS        where the files go (the system's temporary folder)

Used by the lab's pytest glue (labtest.hang_plugin) at a test's timeout and
at exit, and by the harness's call watchdog (labtest.peercalls).
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import time
from typing import Dict, List, Optional, Sequence

from labtest import lockwatch, threadview

FULL_DUMPS = tempfile.gettempdir()
# At most this many groups and threads named per line in a report.
GROUPS_SHOWN = 12
NAMES_SHOWN = 6


def grouped_threads() -> List[str]:
    """The threads in the code under test, grouped by what they wait for."""
    frames = threadview.all_frames()
    groups: Dict[str, Dict[str, List[str]]] = {}
    for ident, frame in frames.items():
        if next(threadview.own_frames(frame), None) is None:
            continue  # only the lab's machinery: an idle worker, a timer
        name = threadview.name_of(ident)
        call = lockwatch.harness_call(ident)
        if call is not None:
            name += f" (the tester, in {call[0]})"
        elif ident == threading.main_thread().ident:
            name += " (the tester)"
        held = lockwatch.held_by(ident)
        if held:
            name += f" (holds {', '.join(held)})"
        where = threadview.location(frame)
        groups.setdefault(lockwatch.doing(ident, frame), {}).setdefault(where, []).append(name)
    lines = []
    ordered = sorted(groups.items(), key=lambda kv: (not kv[0].startswith("waiting for"),
                                                     -sum(map(len, kv[1].values()))))
    for what, places in ordered[:GROUPS_SHOWN]:
        lines.append(f"  {what}:")
        for where, names in places.items():
            shown = ", ".join(names[:NAMES_SHOWN])
            if len(names) > NAMES_SHOWN:
                shown += f" and {len(names) - NAMES_SHOWN} more"
            lines.append(f"    {shown} at {where}")
    if len(ordered) > GROUPS_SHOWN:
        lines.append(f"  ... and {len(ordered) - GROUPS_SHOWN} more kinds of wait "
                     "(in the file below)")
    return lines


def save_full_dump(title: str, name: str) -> Optional[str]:
    """Every thread's whole stack in a file; its path (None if it cannot be written)."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:80] or "test"
    path = os.path.join(FULL_DUMPS, f"raft-threads-{stem}-{os.getpid()}-"
                                    f"{int(time.time())}.txt")
    try:
        with open(path, "w") as out:
            out.write(threadview.full_dump(title))
    except OSError:
        return None
    return path


def threads_report(title: str, name: str, full: bool = False) -> str:
    """title, the tester's stack, the threads grouped; the file of every stack.

    full: every thread's whole stack in the text too (pytest -v).
    """
    main = threading.main_thread().ident
    lines = [title, "The tester (MainThread) is at:"]
    lines.extend(threadview.short_stack(threadview.frame_of(main)))
    lines.append("The threads of the peers and the tester, by what they wait for:")
    lines.extend(grouped_threads())
    path = save_full_dump(title, name)
    if full:
        lines.append(threadview.full_dump("Every thread's whole stack:"))
    elif path is not None:
        lines.append(f"Every thread's whole stack: {path}")
    return "\n".join(lines)


def leftover_report(threads: Sequence[threading.Thread]) -> str:
    """The threads that keep a process alive, and where each one is."""
    lines = [f"{len(threads)} non-daemon thread(s) still running would keep the test "
             "process alive; it exits anyway. A peer's threads must end when it is "
             "killed (check killed() in every loop), or be daemon threads:"]
    for thread in threads:
        lines.append(f"  {thread.name}: {lockwatch.situation(thread.ident or 0)}")
    return "\n".join(lines)


def leftover_threads(before: Sequence[threading.Thread] = ()) -> List[threading.Thread]:
    """The live non-daemon threads other than the main one (and those in before)."""
    main = threading.main_thread()
    return [thread for thread in threading.enumerate()
            if thread is not main and not thread.daemon and thread.is_alive()
            and thread not in before]
