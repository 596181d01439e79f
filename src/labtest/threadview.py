"""Where a thread is, in words a student can read: the lab's reports of stuck threads.

    short_stack(frame)        the frames of the code under test and the tests
                              (raft.py, config.py, test_raft.py, ...), innermost
                              last: "    raft.py:226 in GetState: with self.mu:"
    location(frame)           "raft.py:226 in GetState", the innermost such frame
    blocked_in(frame)         what the thread is inside below that frame:
                              "Call('Raft.AppendEntries')", "time.sleep", ...
    label(obj, "S0"); label_of(obj)   names for objects met in frames: a peer,
                              the end a Call goes through ("Call(...) to S1")
    whose(frame)              "S0.RequestVote": the named peer whose code runs
    frame_of(ident)           a live thread's innermost frame (None once it ended)
    all_frames()              every live thread's, by ident
    with seen_at(frame): ...  a signal handler's thread is seen where it was stopped
    name_of(ident)            a thread's name, from its ident
    full_dump(title)          every thread's whole stack, for a file

The machinery (the standard library, installed packages, and the lab's own
packages: labrpc, labsim, the race checker, the monitors, labtest) is left
out of short stacks: a student reads their own code and the test's. What a
thread waits for inside the machinery is named once, by blocked_in, from
the outermost machinery frame below the student's; a watched lock's waiter
is named by the lock watchdog itself (lockwatch), which knows the lock.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import threading
import traceback
import weakref
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Dict, Iterator, List, Optional

# The lab's packages whose frames are machinery, not the code under test.
_PACKAGES = Path(__file__).resolve().parents[1]
_MACHINERY_DIRS = tuple(
    str(_PACKAGES / name) + os.sep
    for name in ("labgob", "labrpc", "labsim", "racecheck", "monitors", "labtest"))
_STDLIB_DIRS = tuple({form + os.sep
                      for key in ("stdlib", "platstdlib")
                      for form in (sysconfig.get_paths()[key],
                                   str(Path(sysconfig.get_paths()[key]).resolve()))})
# The lab's wrappers that pass a call on (blocked_in names what they call).
_PASS_THROUGH = tuple(os.sep + os.path.join(package, name) for package, name in (
    ("labtest", "peercalls.py"), ("racecheck", "guards.py"), ("racecheck", "locks.py")))
# How many frames of a thread a short stack shows at most.
SHORT_STACK_FRAMES = 6


def is_machinery(filename: str) -> bool:
    """Is this a file of the standard library, an installed package or the lab's tools?"""
    if filename.startswith("<"):
        return True  # <frozen importlib...>, <string>
    if "site-packages" in filename or "dist-packages" in filename:
        return True
    return filename.startswith(_MACHINERY_DIRS) or filename.startswith(_STDLIB_DIRS)


_machinery_cache: dict = {}


def _machinery(frame: FrameType) -> bool:
    filename = frame.f_code.co_filename
    known = _machinery_cache.get(filename)
    if known is None:
        known = _machinery_cache[filename] = is_machinery(
            filename if filename.startswith("<") else os.path.abspath(filename))
    return known


def _frames(frame: Optional[FrameType]) -> List[FrameType]:
    """frame and its callers, outermost first."""
    chain = []
    while frame is not None:
        chain.append(frame)
        frame = frame.f_back
    chain.reverse()
    return chain


# Names for objects a report meets in frames: a peer ("S0"), an end ("S1").
_labels: Dict[int, "weakref.ref[object]"] = {}
_label_text: Dict[int, str] = {}


def label(obj: object, text: str) -> None:
    """Name obj in reports: a peer's frames say whose they are, a Call where it goes."""
    try:
        ref = weakref.ref(obj, lambda _ref, key=id(obj): _forget(key))
    except TypeError:
        return  # (no weak references to it: it stays unnamed)
    _labels[id(obj)] = ref
    _label_text[id(obj)] = text


def _forget(key: int) -> None:
    _labels.pop(key, None)
    _label_text.pop(key, None)


def label_of(obj: object) -> Optional[str]:
    ref = _labels.get(id(obj))
    if ref is None or ref() is not obj:
        return None
    return _label_text.get(id(obj))


def whose(frame: Optional[FrameType]) -> Optional[str]:
    """'S0.RequestVote': the named peer whose method the thread is in, innermost."""
    for own in own_frames(frame):
        peer = label_of(own.f_locals.get("self"))
        if peer is not None:
            return f"{peer}.{own.f_code.co_name}"
    return None


def call_target(frame: Optional[FrameType]) -> Optional[str]:
    """The name of the peer a labrpc Call in this stack goes to, if known."""
    while frame is not None:
        code = frame.f_code
        if code.co_name == "Call" and "labrpc" in code.co_filename:
            return label_of(frame.f_locals.get("self"))
        frame = frame.f_back
    return None


# A thread reporting from a signal handler is seen where the signal found it.
_interrupted: Dict[int, FrameType] = {}


@contextmanager
def seen_at(frame: Optional[FrameType]) -> Iterator[None]:
    """While reporting from a signal handler: the calling thread is at frame."""
    ident = threading.get_ident()
    if frame is not None:
        _interrupted[ident] = frame
    try:
        yield
    finally:
        _interrupted.pop(ident, None)


def all_frames() -> Dict[int, FrameType]:
    """Every live thread's innermost frame, by ident."""
    frames = sys._current_frames()
    frames.update(_interrupted)
    return frames


def frame_of(ident: Optional[int]) -> Optional[FrameType]:
    if ident is None:
        return None
    return _interrupted.get(ident) or sys._current_frames().get(ident)


def name_of(ident: Optional[int]) -> str:
    """A thread's name; "name #2" for the second live thread of that name (the
    solution names every RPC thread of S0 "raft-S0-rpc")."""
    threads = threading.enumerate()
    for thread in threads:
        if thread.ident == ident:
            same = [other.ident for other in threads if other.name == thread.name]
            if len(same) > 1:
                return f"{thread.name} #{same.index(ident) + 1}"
            return thread.name
    return f"thread {ident} (ended)"


def _line(frame: FrameType) -> str:
    summary = traceback.FrameSummary(frame.f_code.co_filename, frame.f_lineno,
                                     frame.f_code.co_name)
    return (summary.line or "").strip()


def _where(frame: FrameType) -> str:
    return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno} in " \
           f"{frame.f_code.co_name}"


def _innermost_own(chain: List[FrameType]) -> int:
    """The index of the innermost frame of the code under test (-1: none)."""
    for i in range(len(chain) - 1, -1, -1):
        if not _machinery(chain[i]):
            return i
    return -1


def short_stack(frame: Optional[FrameType], limit: int = SHORT_STACK_FRAMES) -> List[str]:
    """The frames of the code under test and the tests, innermost last."""
    if frame is None:
        return ["    (no stack: the thread has ended)"]
    own = [f for f in _frames(frame) if not _machinery(f)]
    if not own:
        return ["    (only the lab's own frames: " + _where(frame) + ")"]
    return [f"    {_where(f)}: {_line(f)}" for f in own[-limit:]]


def location(frame: Optional[FrameType]) -> str:
    """'raft.py:226 in GetState': the innermost frame of the code under test."""
    if frame is None:
        return "(ended)"
    chain = _frames(frame)
    own = _innermost_own(chain)
    return _where(chain[own] if own >= 0 else frame)


def _described(callee: FrameType) -> str:
    """The machinery call a thread is inside, named from its outermost frame."""
    code = callee.f_code
    name = getattr(code, "co_qualname", code.co_name)
    if code.co_name == "Call" and "labrpc" in code.co_filename:
        method = callee.f_locals.get("svcMeth")
        to = label_of(callee.f_locals.get("self"))
        return (f"Call({method!r})" if isinstance(method, str) else "Call") + \
            (f" to {to}" if to else "")
    if code.co_name == "put" and code.co_filename.endswith(("applych.py", "guards.py")):
        return "applyCh.put"
    if code.co_name == "sleep":
        return "time.sleep"
    if code.co_name == "join" and "threading" in code.co_filename or \
            code.co_name == "thread_join":
        joined = callee.f_locals.get("self")
        return f"join of thread {getattr(joined, 'name', '?')}"
    module = os.path.splitext(os.path.basename(code.co_filename))[0]
    return f"{module}.{name}" if module not in ("__init__",) else name


def blocked_in(frame: Optional[FrameType]) -> str:
    """What a thread is inside, below its innermost frame of the code under test.

    "" when that frame is the innermost (the thread runs there, or waits in
    a C function such as a plain lock's acquire or time.sleep: the source
    line says which).
    """
    if frame is None:
        return ""
    chain = _frames(frame)
    own = _innermost_own(chain)
    if own == len(chain) - 1:
        return ""
    below = own + 1
    # The lab's wrappers (a bounded call, the race checker's guarded end)
    # only pass the call on: name what they call.
    while below < len(chain) - 1 and \
            chain[below].f_code.co_filename.endswith(_PASS_THROUGH):
        below += 1
    return _described(chain[below])


def full_dump(title: str) -> str:
    """Every live thread's name, daemon flag and whole stack."""
    out = [title, ""]
    frames = all_frames()
    threads = {thread.ident: thread for thread in threading.enumerate()}
    for ident, frame in frames.items():
        thread = threads.get(ident)
        name = thread.name if thread is not None else \
            f"(a raw thread, running {_frames(frame)[0].f_code.co_name})"
        daemon = "daemon" if thread is not None and thread.daemon else "non-daemon"
        out.append(f"--- thread {name} ({daemon}, ident {ident})")
        out.extend(line.rstrip("\n") for line in traceback.format_stack(frame))
        out.append("")
    return "\n".join(out) + "\n"


def own_frames(frame: Optional[FrameType]) -> Iterator[FrameType]:
    """The frames of the code under test, innermost first."""
    while frame is not None:
        if not _machinery(frame):
            yield frame
        frame = frame.f_back
