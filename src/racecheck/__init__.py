"""A race checker for Raft peers: Eraser's lockset rule (SOSP 1997).

Go has -race; this is the Python lab's stand-in. Turn it on with RAFT_RACE=1
(or `pytest --race`, or `raft-stress --race`). The harness then builds every
peer through make_watched, and a report fails the test (report ->
t.fail_later -> the harness's next check):

    enabled()                       -- is RAFT_RACE set?
    reports(), forget_reports()     -- every report made so far (for the pytest glue)
    peer = make_watched(Make, peers, me, persister, applyCh, report=fn)
                                    -- Make, with the peer watched
    OwnedLock(), OwnedRLock()       -- locks that know their holder (locks.py)
    threading_with_owned_locks(base) -- how raft.py is handed them

What it reports:
- races (lockset.py): an attribute of the peer, or a list or dict stored in
  one (containers.py), written by one thread and used by another, where
  some access held none of the locks every other access held, in whatever
  order the accesses came; with both sides' threads and stacks;
- blocking while holding the lock (guards.py): ClientEnd.Call, time.sleep
  or a blocking applyCh.put made by a thread that holds a lock of its peer,
  naming the call and the line.

What it does not see: accesses Make makes before it starts a thread
(initialisation), the lock itself (`mu`) and Kill()'s flag (`dead`), the
inside of a container's items, and a lock raft.py makes after Make returns.
It makes the peers slower: every attribute access is recorded with its
stack.

Module map: locks.py (owner-aware locks), lockset.py (the rule and the
reports), containers.py (watched lists and dicts), guards.py (Call, sleep,
put), peer.py (the watched class and make_watched).
"""

from __future__ import annotations


import labenv
from racecheck.locks import OwnedLock, OwnedRLock, threading_with_owned_locks
from racecheck.peer import EXEMPT, forget_reports, make_watched, reports

ENV_VAR = "RAFT_RACE"


def enabled() -> bool:
    return labenv.enabled(ENV_VAR)


__all__ = ["ENV_VAR", "EXEMPT", "OwnedLock", "OwnedRLock", "enabled", "forget_reports",
           "make_watched", "reports", "threading_with_owned_locks"]
