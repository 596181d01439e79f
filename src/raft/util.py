"""DPrintf: debug printing that costs nothing when it is off.

Off by default. Turn it on with the environment variable RAFT_DEBUG=1
(before the test process starts). Lines go to the "raft" logger at DEBUG
level: pytest shows them under "Captured log call" (for passing tests too,
at the end: the lab's plugin adds -rP while RAFT_DEBUG is on, so
`RAFT_DEBUG=1 pytest -k X 2>&1 | raft-logview` always has lines to read);
outside pytest, configure logging (raft-demo --debug does) to see them.

RAFT_RECORD_DPRINTF=1 (the timeline sets it) turns DPrintf on without
printing: its lines go only into the run's record, for the timeline page.

Like Go's log.Printf, each line starts with its time: milliseconds since the
process started debugging, six digits or more (raft-logview reads
this, whatever else the logging format adds).

When the harness keeps a record of the run (monitors.recording), each line also
goes into it as a "log" event tied to its peer: the peer whose RPC handler
or Make is running in this thread, else the peer a thread name or the line
itself names as S<n> (raft-S2-ticker, "... S2 T4 ...").
"""

from __future__ import annotations

import logging
import re
import threading
import time
from typing import Any, List, Optional

import labenv
import labrpc

import labsim
from labsim.clock import MONOTONIC_ORIGIN

ENV_VAR = "RAFT_DEBUG"
KEEP_ENV = "RAFT_RECORD_DPRINTF"

logger = logging.getLogger("raft")


# Debug: DPrintf does anything at all (code may test it before building a
# costly line). Its lines are printed only with RAFT_DEBUG: the logger's
# level lets them through.
Debug = labenv.enabled(ENV_VAR) or labenv.enabled(KEEP_ENV)
if labenv.enabled(ENV_VAR):
    logger.setLevel(logging.DEBUG)


_START = time.monotonic()


_records: List[Any] = []  # the records DPrintf lines go to (monitors.recording)
_PEER = re.compile(r"\bS(\d+)\b")
_current = threading.local()  # .peer: the peer this thread works for, if known


def DPrintf(format: str, *args: Any) -> None:
    """Log format % args, after the time, when debugging is on (Go's DPrintf)."""
    if Debug:
        # Under the simulation (pytest --sim) every run starts its clock at the
        # same virtual instant, so that a seed prints the same lines.
        start = MONOTONIC_ORIGIN if labsim.active() is not None else _START
        elapsed_ms = int((time.monotonic() - start) * 1000)
        logger.debug("%06d " + format, elapsed_ms, *args)
        if _records:
            text = format % args if args else format
            peer = _peer_of(text)
            for record in list(_records):
                record.add_note("log", peer=peer, text=text)


def _peer_of(text: str) -> Optional[int]:
    peer = getattr(_current, "peer", None)
    if peer is not None:
        return peer
    labels = labrpc.handling_labels()
    if labels and labels.get("peer") is not None:
        return labels["peer"]
    found = _PEER.search(threading.current_thread().name) or _PEER.search(text)
    return int(found.group(1)) if found else None


def set_thread_peer(peer: Optional[int]) -> None:
    """Tie this thread's DPrintf lines to peer (None: to nobody in particular)."""
    _current.peer = peer


def add_record(record: Any) -> None:
    global Debug
    _records.append(record)
    # RAFT_RECORD_DPRINTF may be set after this module was imported (by the
    # timeline's plugin, in a process that imported raft before pytest).
    if not Debug and labenv.enabled(KEEP_ENV):
        Debug = True


def remove_record(record: Any) -> None:
    if record in _records:
        _records.remove(record)
